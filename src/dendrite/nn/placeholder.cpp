// Placeholder so the layer's library has a source until its first file lands; delete then.
