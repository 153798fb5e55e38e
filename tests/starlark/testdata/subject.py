print("never run: an analysis-test subject")
