package posters

// TTCFace is ttcFace, for the tests.
var TTCFace = ttcFace
