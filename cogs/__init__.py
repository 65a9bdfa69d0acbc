"""Discord adapters, one feature per module: parse -> query -> render -> send."""
