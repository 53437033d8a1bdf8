"""Azure Functions entry point (Python v2 programming model).

`tagwarden_resource_write` is subscribed (infra/azure: Event Grid system topic on the subscription)
to Microsoft.Resources.ResourceWriteSuccess, minus tag writes and deployments. The work is in
tagwarden.azure.handler; the import is inside the function so the host indexes the app without
loading the Azure SDK, and no boto3 is ever imported here.
"""

import azure.functions as func

app = func.FunctionApp()


@app.function_name(name="tagwarden_resource_write")
@app.event_grid_trigger(arg_name="event")
def tagwarden_resource_write(event: func.EventGridEvent) -> None:
    from tagwarden.azure.handler import handle

    handle(event)
