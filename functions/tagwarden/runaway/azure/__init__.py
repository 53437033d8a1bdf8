"""The runaway store on Azure (Table Storage)."""
