"""Pure DataFrame -> DataFrame transforms, composed by the jobs with DataFrame.transform."""
