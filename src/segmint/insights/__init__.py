"""Reports about the data and the segments: what we have, how groups perform."""
