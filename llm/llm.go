// Package llm asks an OpenAI-compatible chat completions endpoint (OpenAI, or a local Ollama,
// llama.cpp or vLLM server) for Insert Summary's recap. It is optional: without -llm-url the
// summary is written offline, and on any failure here the domain falls back to it. The
// client is a plain net/http JSON call, so it adds no dependency and speaks to any server
// that implements POST {base}/chat/completions.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/assist"
)

// Client summarises transcripts with a chat completions endpoint; it implements
// workspace.Summariser.
type Client struct {
	// BaseURL is the API's base, e.g. http://127.0.0.1:11434/v1.
	BaseURL string
	Model   string
	// APIKey, when set, is sent as a bearer token.
	APIKey string
	HTTP   *http.Client
}

// New returns a client with a timeout of its own, on top of the caller's context.
func New(baseURL, model, apiKey string, timeout time.Duration) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Model: model, APIKey: apiKey, HTTP: &http.Client{Timeout: timeout}}
}

// Name says who wrote a recap, as the agent reads it.
func (c *Client) Name() string { return "language model " + c.Model }

// maxTranscriptChars bounds the transcript sent; maxAnswerBytes the answer read.
const (
	maxTranscriptChars = 24000
	maxAnswerBytes     = 1 << 20
)

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type request struct {
	Model       string    `json:"model"`
	Messages    []message `json:"messages"`
	Temperature float64   `json:"temperature"`
	Stream      bool      `json:"stream"`
}

type response struct {
	Choices []struct {
		Message message `json:"message"`
	} `json:"choices"`
}

const instructions = "You write recaps of customer service conversations for the agent's notes. " +
	"In at most five short lines: what the customer asked, what was done or agreed, and what is still open. " +
	"Keep the customer's name and any order, ticket or reference numbers exactly as written. Plain text, no preamble."

// Summarise asks the model for a recap of the transcript.
func (c *Client) Summarise(ctx context.Context, contactName string, lines []assist.Line) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Customer: %s\n\n", contactName)
	for _, l := range lines {
		who := "Agent"
		if l.Contact {
			who = "Customer"
		}
		if b.Len() > maxTranscriptChars {
			b.WriteString("[…]\n")
			break
		}
		fmt.Fprintf(&b, "%s: %s\n", who, l.Text)
	}
	body, err := json.Marshal(request{Model: c.Model, Temperature: 0.2, Messages: []message{
		{Role: "system", Content: instructions}, {Role: "user", Content: b.String()},
	}})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("llm: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return "", fmt.Errorf("llm: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("llm: %s answered %s", c.BaseURL, resp.Status)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return "", fmt.Errorf("llm: not a chat completion: %w", err)
	}
	if len(r.Choices) == 0 || strings.TrimSpace(r.Choices[0].Message.Content) == "" {
		return "", fmt.Errorf("llm: the answer has no text")
	}
	return strings.TrimSpace(r.Choices[0].Message.Content), nil
}
