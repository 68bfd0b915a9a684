"""Loading data into the catalog: MovieLens imports, the demo generator, and the bulk writes they share."""
