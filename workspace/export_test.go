package workspace

// PasswordChecks is how many bcrypt comparisons ran so far in this process.
func PasswordChecks() int64 { return passwordChecks.Load() }

// CheckWebchat is the input check StartWebchat runs before it touches the store.
var CheckWebchat = (*Service).checkWebchat
