"""What every job shares: configuration, the command line, the Spark session, the final report."""
