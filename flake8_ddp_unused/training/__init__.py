"""The training side: the model as a value across the project (call sites, wrappers, trainer classes)
and the loss code that decides which of its outputs get a gradient."""
