"""Text and corpora: the word tokenizer, the synthetic grammar and its oracle, a person's text file
(its format, its sentences, clauses cut to fit L) and the corpus registry."""
