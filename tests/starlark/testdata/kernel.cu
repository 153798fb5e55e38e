// never compiled: an analysis-test subject
