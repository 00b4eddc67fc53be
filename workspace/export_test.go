package workspace

// PasswordChecks is how many bcrypt comparisons ran so far in this process.
func PasswordChecks() int64 { return passwordChecks.Load() }
