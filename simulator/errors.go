package simulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// apiError is a reply other than 200, with the request field at fault when
// there is one.
type apiError struct {
	status int
	msg    string
	param  string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// invalid is a 422 about one request field.
func invalid(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, param: param, msg: param + ": " + fmt.Sprintf(format, args...)}
}

func errorType(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusServiceUnavailable:
		return "service_unavailable"
	}
	return "server_error"
}

// appendError renders an error body in the configured shape:
//
//	openai:  {"error":{"message":..,"type":..,"param":..,"code":..}}
//	message: {"message":..,"error":{}}
//	detail:  {"detail":..}, and for 422 FastAPI's
//	         {"detail":[{"loc":["body",<param path>],"msg":..,"type":"value_error"}]}
func appendError(b []byte, shape string, e *apiError) []byte {
	switch shape {
	case ErrorShapeMessage:
		b = append(b, `{"message":`...)
		b = appendString(b, e.msg)
		return append(b, `,"error":{}}`...)
	case ErrorShapeDetail:
		if e.status == http.StatusUnprocessableEntity {
			b = append(b, `{"detail":[{"loc":["body"`...)
			// FastAPI's loc is the path one step per element, list
			// indices as integers: messages.1.role is "messages",1,"role".
			for part := range strings.SplitSeq(e.param, ".") {
				if part == "" {
					continue
				}
				b = append(b, ',')
				if _, err := strconv.Atoi(part); err == nil {
					b = append(b, part...)
				} else {
					b = appendString(b, part)
				}
			}
			b = append(b, `],"msg":`...)
			b = appendString(b, e.msg)
			return append(b, `,"type":"value_error"}]}`...)
		}
		b = append(b, `{"detail":`...)
		b = appendString(b, e.msg)
		return append(b, '}')
	}
	b = append(b, `{"error":{"message":`...)
	b = appendString(b, e.msg)
	b = append(b, `,"type":`...)
	b = appendString(b, errorType(e.status))
	b = append(b, `,"param":`...)
	if e.param != "" {
		b = appendString(b, e.param)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"code":`...)
	b = appendString(b, strconv.Itoa(e.status))
	return append(b, "}}"...)
}
