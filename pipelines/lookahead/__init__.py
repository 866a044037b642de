"""Looking ahead at the line side: inputs and assets of the requirement, shortage and pick forecast."""
