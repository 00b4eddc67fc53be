package workspace

// CheckWebchat is the input check StartWebchat runs before it touches the store.
var CheckWebchat = (*Service).checkWebchat
