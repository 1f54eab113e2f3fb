"""Management front-ends (console, API, REST, web) over one command layer."""
