package webchat

// Check is the input check Start runs before it touches the store.
func Check(s interface{ CheckText(string) (string, error) }, in Start) (Start, error) {
	return check(s, in)
}
