"""llmwatch user interface: the click CLI, the Textual dashboard and the report formats."""
