"""Azure Functions entry point (Python v2 programming model).

The Event Grid trigger that tags new resources arrives with the Azure enforcer; the app object is
defined here so that `func start` and `func azure functionapp publish` find the project.
"""

import azure.functions as func

app = func.FunctionApp()
