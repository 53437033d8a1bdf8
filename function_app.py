"""Azure Functions entry point (Python v2 programming model).

`tagwarden_resource_write` is subscribed (infra/azure: Event Grid system topic on the subscription)
to Microsoft.Resources.ResourceWriteSuccess (minus tag writes and deployments) and ResourceDeleteSuccess
(a delete closes the ledger record: an id created again is judged as new). `tagwarden_sweeper`
runs on the schedule in the app setting TAGWARDEN_SWEEP_SCHEDULE (an NCRONTAB expression, six
fields; infra/azure sets "0 */15 * * * *", every 15 minutes): it releases quarantined resources
whose tags are now fixed, deletes those past their deadline, leaves the rest. The work is in
tagwarden.azure.handler; the imports are inside the functions so the host indexes the app without
loading the Azure SDK, and no boto3 is ever imported here.
"""

import azure.functions as func

app = func.FunctionApp()


@app.function_name(name="tagwarden_resource_write")
@app.event_grid_trigger(arg_name="event")
def tagwarden_resource_write(event: func.EventGridEvent) -> None:
    from tagwarden.coldstart import entry

    entry("tagwarden.azure.handler").handle(event)


@app.function_name(name="tagwarden_sweeper")
@app.timer_trigger(arg_name="timer", schedule="%TAGWARDEN_SWEEP_SCHEDULE%", run_on_startup=False)
def tagwarden_sweeper(timer: func.TimerRequest) -> None:
    from tagwarden.coldstart import entry

    entry("tagwarden.azure.handler").sweep()
