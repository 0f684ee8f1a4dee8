"""Process owners' work: the process library, drafts, scenario checks and moving running cases."""
