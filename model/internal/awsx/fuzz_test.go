package awsx

import (
	"bytes"
	"testing"

	"github.com/aws/smithy-go/eventstream"
)

func encodeEvent(eventType string, payload []byte) []byte {
	var hs eventstream.Headers
	hs.Set(":message-type", eventstream.StringValue("event"))
	hs.Set(":event-type", eventstream.StringValue(eventType))
	hs.Set(":content-type", eventstream.StringValue("application/json"))
	var b bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&b, eventstream.Message{Headers: hs, Payload: payload}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// FuzzEventStream feeds the AWS event-stream framing that SageMaker's
// and Bedrock's response streams arrive in (the SDK's decoder, which runs
// in the SDK's own goroutine, where a panic would end the process) any
// bytes. Decoding never panics, reads at most one message per 16 bytes
// (the smallest frame), and a decoded message encodes and decodes again
// to the same headers and payload.
func FuzzEventStream(f *testing.F) {
	part := encodeEvent("PayloadPart", []byte(`{"Bytes":"ZGF0YTp7InRva2VuIjp7InRleHQiOiIgUGFyaXMifX0K"}`))
	delta := encodeEvent("contentBlockDelta", []byte(`{"contentBlockIndex":0,"delta":{"text":"Revenue"}}`))
	f.Add(part)
	f.Add(append(append([]byte{}, part...), delta...))
	f.Add(part[:len(part)/2]) // cut in the payload
	f.Add(part[:10])          // cut in the prelude
	bad := append([]byte{}, delta...)
	bad[len(bad)-1] ^= 0xff // message CRC wrong
	f.Add(bad)
	f.Add([]byte{0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := eventstream.NewDecoder()
		r := bytes.NewReader(data)
		for n := 0; ; n++ {
			if n > len(data)/16 {
				t.Fatalf("%d messages from %d bytes", n, len(data))
			}
			msg, err := dec.Decode(r, nil)
			if err != nil {
				return
			}
			var b bytes.Buffer
			if err := eventstream.NewEncoder().Encode(&b, msg); err != nil {
				continue // a header the encoder refuses to write back
			}
			again, err := eventstream.NewDecoder().Decode(&b, nil)
			if err != nil || !bytes.Equal(again.Payload, msg.Payload) || len(again.Headers) != len(msg.Headers) {
				t.Fatalf("message %+v re-encoded decodes to %+v, %v", msg, again, err)
			}
		}
	})
}
