"""Log sources: live tail, polling, files, and the load generator's responses, behind one interface."""
