"""Experiments of the book: the training runs, sweeps and demos of each chapter, one
module per chapter, named like the chapter. They import the core only."""
