// llhttp's own request cases as data (converted from its spec files to JSON, then to this table): nodejs/llhttp
// test/request/*.md at commit 01e105a30fd06e248bc8ac73c4adb34a63d4114a, MIT license, Copyright 2018 Fedor Indutny.
// Each entry: spec file, section name, request bytes (base64), llhttp error code (nil = accepted),
// messages llhttp completed, body bytes it delivered.

struct LLHTTPCase: Sendable, CustomStringConvertible {
    let file: String
    let name: String
    let requestBase64: String
    let llhttpError: Int?
    let llhttpReason: String?
    let messagesComplete: Int
    let bodyBytes: Int
    var description: String { "\(file): \(name)" }
}

let llhttpCases: [LLHTTPCase] = [
    LLHTTPCase(
        file: "connection.md", name: "Setting flag", requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbm5lY3Rpb246IGtlZXAtYWxpdmUNCg0K",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "connection.md", name: "Restarting when keep-alive is explicitly",
        requestBase64:
            "UFVUIC91cmwgSFRUUC8xLjENCkNvbm5lY3Rpb246IGtlZXAtYWxpdmUNCg0KUFVUIC91cmwgSFRUUC8xLjENCkNvbm5lY3Rpb246IGtlZXAtYWxpdmUNCg0K",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 2, bodyBytes: 0),
    LLHTTPCase(
        file: "connection.md", name: "No restart when keep-alive is off (1.0)",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjANCg0KUFVUIC91cmwgSFRUUC8xLjENCg0K", llhttpError: 5,
        llhttpReason: "Data after `Connection: close`", messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "connection.md", name: "CRLF between requests, implicit `keep-alive`",
        requestBase64:
            "UE9TVCAvIEhUVFAvMS4xDQpIb3N0OiB3d3cuZXhhbXBsZS5jb20NCkNvbnRlbnQtVHlwZTogYXBwbGljYXRpb24veC13d3ctZm9ybS11cmxlbmNvZGVkDQpDb250ZW50LUxlbmd0aDogNA0KDQpxPTQyDQoNCkdFVCAvIEhUVFAvMS4x",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 4),
    LLHTTPCase(
        file: "connection.md", name: "Not treating `\\r` as `-`",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbm5lY3Rpb246IGtlZXANYWxpdmUNCg0K", llhttpError: 3,
        llhttpReason: "Missing expected LF after header value", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "connection.md", name: "Setting flag on `close`", requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbm5lY3Rpb246IGNsb3NlDQoNCg==",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "connection.md", name: "Setting flag on `close` followed by tab",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbm5lY3Rpb246IGNsb3NlCQ0KDQo=", llhttpError: nil, llhttpReason: nil, messagesComplete: 1,
        bodyBytes: 0),
    LLHTTPCase(
        file: "connection.md", name: "CRLF between requests, explicit `close`",
        requestBase64:
            "UE9TVCAvIEhUVFAvMS4xDQpIb3N0OiB3d3cuZXhhbXBsZS5jb20NCkNvbnRlbnQtVHlwZTogYXBwbGljYXRpb24veC13d3ctZm9ybS11cmxlbmNvZGVkDQpDb250ZW50LUxlbmd0aDogNA0KQ29ubmVjdGlvbjogY2xvc2UNCg0KcT00Mg0KDQpHRVQgLyBIVFRQLzEuMQ==",
        llhttpError: 5, llhttpReason: "Data after `Connection: close`", messagesComplete: 1, bodyBytes: 4),
    LLHTTPCase(
        file: "connection.md", name: "CRLF between requests, explicit `close` followed by tab",
        requestBase64:
            "UE9TVCAvIEhUVFAvMS4xDQpIb3N0OiB3d3cuZXhhbXBsZS5jb20NCkNvbnRlbnQtVHlwZTogYXBwbGljYXRpb24veC13d3ctZm9ybS11cmxlbmNvZGVkDQpDb250ZW50LUxlbmd0aDogNA0KQ29ubmVjdGlvbjogY2xvc2UJDQoNCnE9NDINCg0KR0VUIC8gSFRUUC8xLjE=",
        llhttpError: 5, llhttpReason: "Data after `Connection: close`", messagesComplete: 1, bodyBytes: 4),
    LLHTTPCase(
        file: "connection.md", name: "Sample",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbm5lY3Rpb246IGNsb3NlLCB0b2tlbiwgdXBncmFkZSwgdG9rZW4sIGtlZXAtYWxpdmUNCg0K",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "connection.md", name: "Multiple tokens with folding and LWS",
        requestBase64:
            "R0VUIC9kZW1vIEhUVFAvMS4xDQpDb25uZWN0aW9uOiBrZWVwLWFsaXZlLCB1cGdyYWRlDQpVcGdyYWRlOiBXZWJTb2NrZXQNCg0KSG90IGRpZ2dpdHkgZG9nZw==",
        llhttpError: 22, llhttpReason: "Pause on CONNECT/Upgrade", messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "connection.md", name: "Invalid whitespace token with `Connection` header field",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbm5lY3Rpb24gOiB1cGdyYWRlDQpDb250ZW50LUxlbmd0aDogNA0KVXBncmFkZTogd3MNCg0KYWJjZGVmZ2g=",
        llhttpError: 10, llhttpReason: "Invalid header field char", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "connection.md", name: "Setting a flag and pausing",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbm5lY3Rpb246IHVwZ3JhZGUNClVwZ3JhZGU6IHdzDQoNCg==", llhttpError: 22,
        llhttpReason: "Pause on CONNECT/Upgrade", messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "connection.md", name: "Emitting part of body and pausing",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbm5lY3Rpb246IHVwZ3JhZGUNCkNvbnRlbnQtTGVuZ3RoOiA0DQpVcGdyYWRlOiB3cw0KDQphYmNkZWZnaA==",
        llhttpError: 22, llhttpReason: "Pause on CONNECT/Upgrade", messagesComplete: 1, bodyBytes: 4),
    LLHTTPCase(
        file: "connection.md", name: "Upgrade GET request",
        requestBase64:
            "R0VUIC9kZW1vIEhUVFAvMS4xDQpIb3N0OiBleGFtcGxlLmNvbQ0KQ29ubmVjdGlvbjogVXBncmFkZQ0KU2VjLVdlYlNvY2tldC1LZXkyOiAxMjk5OCA1IFkzIDEgIC5QMDANClNlYy1XZWJTb2NrZXQtUHJvdG9jb2w6IHNhbXBsZQ0KVXBncmFkZTogV2ViU29ja2V0DQpTZWMtV2ViU29ja2V0LUtleTE6IDQgQDEgIDQ2NTQ2eFclMGwgMSA1DQpPcmlnaW46IGh0dHA6Ly9leGFtcGxlLmNvbQ0KDQpIb3QgZGlnZ2l0eSBkb2dn",
        llhttpError: 22, llhttpReason: "Pause on CONNECT/Upgrade", messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "connection.md", name: "Upgrade POST request",
        requestBase64:
            "UE9TVCAvZGVtbyBIVFRQLzEuMQ0KSG9zdDogZXhhbXBsZS5jb20NCkNvbm5lY3Rpb246IFVwZ3JhZGUNClVwZ3JhZGU6IEhUVFAvMi4wDQpDb250ZW50LUxlbmd0aDogMTUNCg0Kc3dlZXQgcG9zdCBib2R5SG90IGRpZ2dpdHkgZG9nZw==",
        llhttpError: 22, llhttpReason: "Pause on CONNECT/Upgrade", messagesComplete: 1, bodyBytes: 15),
    LLHTTPCase(
        file: "content-length.md", name: "`Content-Length` with zeroes",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbnRlbnQtTGVuZ3RoOiAwMDMNCg0KYWJj", llhttpError: nil, llhttpReason: nil,
        messagesComplete: 1, bodyBytes: 3),
    LLHTTPCase(
        file: "content-length.md", name: "`Content-Length` with follow-up headers",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbnRlbnQtTGVuZ3RoOiAwMDMNCk9oYWk6IHdvcmxkDQoNCmFiYw==", llhttpError: nil,
        llhttpReason: nil, messagesComplete: 1, bodyBytes: 3),
    LLHTTPCase(
        file: "content-length.md", name: "Error on `Content-Length` overflow",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbnRlbnQtTGVuZ3RoOiAxMDAwMDAwMDAwMDAwMDAwMDAwMDAwDQo=", llhttpError: 11,
        llhttpReason: "Content-Length overflow", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "content-length.md", name: "Error on duplicate `Content-Length`",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbnRlbnQtTGVuZ3RoOiAxDQpDb250ZW50LUxlbmd0aDogMg0K", llhttpError: 4,
        llhttpReason: "Duplicate Content-Length", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "content-length.md", name: "Error on simultaneous `Content-Length` and `Transfer-Encoding: identity`",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbnRlbnQtTGVuZ3RoOiAxDQpUcmFuc2Zlci1FbmNvZGluZzogaWRlbnRpdHkNCg0K", llhttpError: 15,
        llhttpReason: "Transfer-Encoding can't be present with Content-Length", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "content-length.md", name: "Invalid whitespace token with `Content-Length` header field",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbm5lY3Rpb246IHVwZ3JhZGUNCkNvbnRlbnQtTGVuZ3RoIDogNA0KVXBncmFkZTogd3MNCg0KYWJjZGVmZ2g=",
        llhttpError: 10, llhttpReason: "Invalid header field char", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "content-length.md", name: "Funky `Content-Length` with body",
        requestBase64: "R0VUIC9nZXRfZnVua3lfY29udGVudF9sZW5ndGhfYm9keV9oZWxsbyBIVFRQLzEuMA0KY29uVEVOVC1MZW5ndGg6IDUNCg0KSEVMTE8=",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 5),
    LLHTTPCase(
        file: "content-length.md", name: "Spaces in `Content-Length` (surrounding)",
        requestBase64: "UE9TVCAvIEhUVFAvMS4xDQpDb250ZW50LUxlbmd0aDogIDQyIA0KDQo=", llhttpError: nil, llhttpReason: nil, messagesComplete: 0,
        bodyBytes: 0),
    LLHTTPCase(
        file: "content-length.md", name: "Tabs in `Content-Length` (surrounding)",
        requestBase64: "UE9TVCAvIEhUVFAvMS4xDQpDb250ZW50LUxlbmd0aDoJNDIJICANCg0K", llhttpError: nil, llhttpReason: nil, messagesComplete: 0,
        bodyBytes: 0),
    LLHTTPCase(
        file: "content-length.md", name: "Spaces in `Content-Length` #2",
        requestBase64: "UE9TVCAvIEhUVFAvMS4xDQpDb250ZW50LUxlbmd0aDogNCAyDQoNCg==", llhttpError: 11,
        llhttpReason: "Invalid character in Content-Length", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "content-length.md", name: "Spaces in `Content-Length` #3",
        requestBase64: "UE9TVCAvIEhUVFAvMS4xDQpDb250ZW50LUxlbmd0aDogMTMgMzcNCg0K", llhttpError: 11,
        llhttpReason: "Invalid character in Content-Length", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "content-length.md", name: "Empty `Content-Length`", requestBase64: "UE9TVCAvIEhUVFAvMS4xDQpDb250ZW50LUxlbmd0aDoNCg0K",
        llhttpError: 11, llhttpReason: "Empty Content-Length", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "content-length.md", name: "Missing CRLF-CRLF before body",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENCkNvbnRlbnQtTGVuZ3RoOiAzDQoNYWJj", llhttpError: 2,
        llhttpReason: "Expected LF after headers", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "ICE protocol and GET method",
        requestBase64: "R0VUIC9tdXNpYy9zd2VldC9tdXNpYyBJQ0UvMS4wDQpIb3N0OiBleGFtcGxlLmNvbQ0KDQo=", llhttpError: 8,
        llhttpReason: "Expected SOURCE method for ICE/x.x request", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "ICE protocol, but not really",
        requestBase64: "R0VUIC9tdXNpYy9zd2VldC9tdXNpYyBJSFRUUC8xLjANCkhvc3Q6IGV4YW1wbGUuY29tDQoNCg==", llhttpError: 8,
        llhttpReason: "Expected HTTP/, RTSP/ or ICE/", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "RTSP protocol and PUT method",
        requestBase64: "UFVUIC9tdXNpYy9zd2VldC9tdXNpYyBSVFNQLzEuMA0KSG9zdDogZXhhbXBsZS5jb20NCg0K", llhttpError: 8,
        llhttpReason: "Invalid method for RTSP/x.x request", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "HTTP protocol and ANNOUNCE method",
        requestBase64: "QU5OT1VOQ0UgL211c2ljL3N3ZWV0L211c2ljIEhUVFAvMS4wDQpIb3N0OiBleGFtcGxlLmNvbQ0KDQo=", llhttpError: 8,
        llhttpReason: "Invalid method for HTTP/x.x request", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "Headers separated by CR", requestBase64: "R0VUIC8gSFRUUC8xLjENCkZvbzogMQ1CYXI6IDINCg0K", llhttpError: 3,
        llhttpReason: "Missing expected LF after header value", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "Headers separated by LF",
        requestBase64: "UE9TVCAvIEhUVFAvMS4xDQpIb3N0OiBsb2NhbGhvc3Q6NTAwMA0KeDp4ClRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkDQoNCjENCkENCjANCg==",
        llhttpError: 25, llhttpReason: "Missing expected CR after header value", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "Headers separated by dummy characters",
        requestBase64: "R0VUIC8gSFRUUC8xLjENCkNvbm5lY3Rpb246IGNsb3NlDQpIb3N0OiBhDQoNWkdFVCAvZXZpbDogSFRUUC8xLjENCkhvc3Q6IGENCg==",
        llhttpError: 2, llhttpReason: "Expected LF after headers", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "Empty headers separated by CR",
        requestBase64:
            "UE9TVCAvIEhUVFAvMS4xDQpDb25uZWN0aW9uOiBDbG9zZQ0KSG9zdDogbG9jYWxob3N0OjUwMDANCng6DVRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkDQoNCjENCkENCjANCg==",
        llhttpError: 2, llhttpReason: "Expected LF after CR", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "Empty headers separated by LF",
        requestBase64: "UE9TVCAvIEhUVFAvMS4xDQpIb3N0OiBsb2NhbGhvc3Q6NTAwMA0KeDoKVHJhbnNmZXItRW5jb2Rpbmc6IGNodW5rZWQNCg0KMQ0KQQ0KMA0K",
        llhttpError: 10, llhttpReason: "Invalid header value char", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "Invalid method", requestBase64: "TUtDT0xBIC8gSFRUUC8xLjENCg0K", llhttpError: 6,
        llhttpReason: "Expected space after method", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "Invalid space after start line", requestBase64: "R0VUIC8gSFRUUC8xLjENCiBIb3N0OiBmb28=", llhttpError: 30,
        llhttpReason: "Unexpected space after start line", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "Only LFs present",
        requestBase64:
            "UE9TVCAvIEhUVFAvMS4xClRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkClRyYWlsZXI6IEJheg0KRm9vOiBhYmMKQmFyOiBkZWYKCjEKQQoxO2FiYwpCCjE7ZGVmPWdoaQpDCjE7amtsPSJtbm8iCkQKMAoKQmF6OiBnaGkKClw=",
        llhttpError: 9, llhttpReason: "Expected CRLF after version", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "invalid.md", name: "Spaces before headers",
        requestBase64:
            "UE9TVCAvaGVsbG8gSFRUUC8xLjENCkhvc3Q6IGxvY2FsaG9zdA0KRm9vOiBiYXINCiBDb250ZW50LUxlbmd0aDogMzgNCg0KR0VUIC9ieWUgSFRUUC8xLjENCkhvc3Q6IGxvY2FsaG9zdA0KDQo=",
        llhttpError: 10, llhttpReason: "Unexpected whitespace after header value", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "lenient-header-value-relaxed.md", name: "Control char in header value (strict)",
        requestBase64: "R0VUIC91cmwgSFRUUC8xLjENCkhlYWRlcjE6IGhlbGxvDHdvcmxkDQoNCg==", llhttpError: 10,
        llhttpReason: "Invalid header value char", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "lenient-headers.md", name: "Header value", requestBase64: "R0VUIC91cmwgSFRUUC8xLjENCkhlYWRlcjE6IAwNCg0KDQo=",
        llhttpError: 10, llhttpReason: "Invalid header value char", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "REPORT request", requestBase64: "UkVQT1JUIC90ZXN0IEhUVFAvMS4xDQoNCg==", llhttpError: nil,
        llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "CONNECT request",
        requestBase64:
            "Q09OTkVDVCAwLWhvbWUwLm5ldHNjYXBlLmNvbTo0NDMgSFRUUC8xLjANClVzZXItYWdlbnQ6IE1vemlsbGEvMS4xTg0KUHJveHktYXV0aG9yaXphdGlvbjogYmFzaWMgYUdWc2JHODZkMjl5YkdRPQ0KDQpzb21lIGRhdGENCmFuZCB5ZXQgZXZlbiBtb3JlIGRhdGE=",
        llhttpError: 22, llhttpReason: "Pause on CONNECT/Upgrade", messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "CONNECT request with CAPS",
        requestBase64:
            "Q09OTkVDVCBIT01FMC5ORVRTQ0FQRS5DT006NDQzIEhUVFAvMS4wDQpVc2VyLWFnZW50OiBNb3ppbGxhLzEuMU4NClByb3h5LWF1dGhvcml6YXRpb246IGJhc2ljIGFHVnNiRzg2ZDI5eWJHUT0NCg0K",
        llhttpError: 22, llhttpReason: "Pause on CONNECT/Upgrade", messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "CONNECT with body",
        requestBase64:
            "Q09OTkVDVCBmb28uYmFyLmNvbTo0NDMgSFRUUC8xLjANClVzZXItYWdlbnQ6IE1vemlsbGEvMS4xTg0KUHJveHktYXV0aG9yaXphdGlvbjogYmFzaWMgYUdWc2JHODZkMjl5YkdRPQ0KQ29udGVudC1MZW5ndGg6IDEwDQoNCmJsYXJmY2ljbGUi",
        llhttpError: 22, llhttpReason: "Pause on CONNECT/Upgrade", messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "M-SEARCH request",
        requestBase64:
            "TS1TRUFSQ0ggKiBIVFRQLzEuMQ0KSE9TVDogMjM5LjI1NS4yNTUuMjUwOjE5MDANCk1BTjogInNzZHA6ZGlzY292ZXIiDQpTVDogInNzZHA6YWxsIg0KDQo=",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "PATCH request",
        requestBase64:
            "UEFUQ0ggL2ZpbGUudHh0IEhUVFAvMS4xDQpIb3N0OiB3d3cuZXhhbXBsZS5jb20NCkNvbnRlbnQtVHlwZTogYXBwbGljYXRpb24vZXhhbXBsZQ0KSWYtTWF0Y2g6ICJlMDAyM2FhNGUiDQpDb250ZW50LUxlbmd0aDogMTANCg0KY2NjY2NjY2NjYw==",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 10),
    LLHTTPCase(
        file: "method.md", name: "PURGE request", requestBase64: "UFVSR0UgL2ZpbGUudHh0IEhUVFAvMS4xDQpIb3N0OiB3d3cuZXhhbXBsZS5jb20NCg0K",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "SEARCH request", requestBase64: "U0VBUkNIIC8gSFRUUC8xLjENCkhvc3Q6IHd3dy5leGFtcGxlLmNvbQ0KDQo=",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "LINK request",
        requestBase64:
            "TElOSyAvaW1hZ2VzL215X2RvZy5qcGcgSFRUUC8xLjENCkhvc3Q6IGV4YW1wbGUuY29tDQpMaW5rOiA8aHR0cDovL2V4YW1wbGUuY29tL3Byb2ZpbGVzL2pvZT47IHJlbD0idGFnIg0KTGluazogPGh0dHA6Ly9leGFtcGxlLmNvbS9wcm9maWxlcy9zYWxseT47IHJlbD0idGFnIg0KDQo=",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "LINK request",
        requestBase64:
            "VU5MSU5LIC9pbWFnZXMvbXlfZG9nLmpwZyBIVFRQLzEuMQ0KSG9zdDogZXhhbXBsZS5jb20NCkxpbms6IDxodHRwOi8vZXhhbXBsZS5jb20vcHJvZmlsZXMvc2FsbHk+OyByZWw9InRhZyINCg0K",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "SOURCE request",
        requestBase64: "U09VUkNFIC9tdXNpYy9zd2VldC9tdXNpYyBIVFRQLzEuMQ0KSG9zdDogZXhhbXBsZS5jb20NCg0K", llhttpError: nil, llhttpReason: nil,
        messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "SOURCE request with ICE",
        requestBase64: "U09VUkNFIC9tdXNpYy9zd2VldC9tdXNpYyBJQ0UvMS4wDQpIb3N0OiBleGFtcGxlLmNvbQ0KDQo=", llhttpError: nil, llhttpReason: nil,
        messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "OPTIONS request with RTSP",
        requestBase64: "T1BUSU9OUyAvbXVzaWMvc3dlZXQvbXVzaWMgUlRTUC8xLjANCkhvc3Q6IGV4YW1wbGUuY29tDQoNCg==", llhttpError: nil,
        llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "ANNOUNCE request with RTSP",
        requestBase64: "QU5OT1VOQ0UgL211c2ljL3N3ZWV0L211c2ljIFJUU1AvMS4wDQpIb3N0OiBleGFtcGxlLmNvbQ0KDQo=", llhttpError: nil,
        llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "PRI request HTTP2", requestBase64: "UFJJICogSFRUUC8xLjENCg0KU00NCg0K", llhttpError: 23,
        llhttpReason: "Pause on PRI/Upgrade", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "method.md", name: "QUERY request",
        requestBase64:
            "UVVFUlkgL2NvbnRhY3RzIEhUVFAvMS4xDQpIb3N0OiBleGFtcGxlLm9yZw0KQ29udGVudC1UeXBlOiBleGFtcGxlL3F1ZXJ5DQpBY2NlcHQ6IHRleHQvY3N2DQpDb250ZW50LUxlbmd0aDogNDENCg0Kc2VsZWN0IHN1cm5hbWUsIGdpdmVubmFtZSwgZW1haWwgbGltaXQgMTA=",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 41),
    LLHTTPCase(
        file: "pipelining.md", name: "Should parse multiple events",
        requestBase64:
            "UE9TVCAvYWFhIEhUVFAvMS4xDQpDb250ZW50LUxlbmd0aDogMw0KDQpBQUENClBVVCAvYmJiIEhUVFAvMS4xDQpDb250ZW50LUxlbmd0aDogNA0KDQpCQkJCDQpQQVRDSCAvY2NjIEhUVFAvMS4xDQpDb250ZW50LUxlbmd0aDogNQ0KDQpDQ0ND",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 2, bodyBytes: 11),
    LLHTTPCase(
        file: "sample.md", name: "Simple request",
        requestBase64: "T1BUSU9OUyAvdXJsIEhUVFAvMS4xDQpIZWFkZXIxOiBWYWx1ZTENCkhlYWRlcjI6CSBWYWx1ZTINCg0K", llhttpError: nil,
        llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "sample.md", name: "curl GET",
        requestBase64:
            "R0VUIC90ZXN0IEhUVFAvMS4xDQpVc2VyLUFnZW50OiBjdXJsLzcuMTguMCAoaTQ4Ni1wYy1saW51eC1nbnUpIGxpYmN1cmwvNy4xOC4wIE9wZW5TU0wvMC45LjhnIHpsaWIvMS4yLjMuMyBsaWJpZG4vMS4xDQpIb3N0OiAwLjAuMC4wPTUwMDANCkFjY2VwdDogKi8qDQoNCg==",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "sample.md", name: "Firefox GET",
        requestBase64:
            "R0VUIC9mYXZpY29uLmljbyBIVFRQLzEuMQ0KSG9zdDogMC4wLjAuMD01MDAwDQpVc2VyLUFnZW50OiBNb3ppbGxhLzUuMCAoWDExOyBVOyBMaW51eCBpNjg2OyBlbi1VUzsgcnY6MS45KSBHZWNrby8yMDA4MDYxMDE1IEZpcmVmb3gvMy4wDQpBY2NlcHQ6IHRleHQvaHRtbCxhcHBsaWNhdGlvbi94aHRtbCt4bWwsYXBwbGljYXRpb24veG1sO3E9MC45LCovKjtxPTAuOA0KQWNjZXB0LUxhbmd1YWdlOiBlbi11cyxlbjtxPTAuNQ0KQWNjZXB0LUVuY29kaW5nOiBnemlwLGRlZmxhdGUNCkFjY2VwdC1DaGFyc2V0OiBJU08tODg1OS0xLHV0Zi04O3E9MC43LCo7cT0wLjcNCktlZXAtQWxpdmU6IDMwMA0KQ29ubmVjdGlvbjoga2VlcC1hbGl2ZQ0KDQo=",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "sample.md", name: "DUMBPACK", requestBase64: "R0VUIC9kdW1icGFjayBIVFRQLzEuMQ0KYWFhYWFhYWFhYWFhYTorKysrKysrKysrDQoNCg==",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "sample.md", name: "No headers and no body",
        requestBase64: "R0VUIC9nZXRfbm9faGVhZGVyc19ub19ib2R5L3dvcmxkIEhUVFAvMS4xDQoNCg==", llhttpError: nil, llhttpReason: nil,
        messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "sample.md", name: "One header and no body",
        requestBase64: "R0VUIC9nZXRfb25lX2hlYWRlcl9ub19ib2R5IEhUVFAvMS4xDQpBY2NlcHQ6ICovKg0KDQo=", llhttpError: nil, llhttpReason: nil,
        messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "sample.md", name: "Apache bench GET",
        requestBase64: "R0VUIC90ZXN0IEhUVFAvMS4wDQpIb3N0OiAwLjAuMC4wOjUwMDANClVzZXItQWdlbnQ6IEFwYWNoZUJlbmNoLzIuMw0KQWNjZXB0OiAqLyoNCg0K",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "sample.md", name: "Prefix newline", requestBase64: "DQpHRVQgL3Rlc3QgSFRUUC8xLjENCg0K", llhttpError: nil, llhttpReason: nil,
        messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "sample.md", name: "No HTTP version", requestBase64: "R0VUIC8NCg0K", llhttpError: nil, llhttpReason: nil, messagesComplete: 1,
        bodyBytes: 0),
    LLHTTPCase(
        file: "sample.md", name: "Line folding in header value with LF",
        requestBase64:
            "R0VUIC8gSFRUUC8xLjENCkxpbmUxOiAgIGFiYwoJZGVmCiBnaGkKCQlqa2wKICBtbm8gCgkgCXFycwpMaW5lMjogCSBsaW5lMgkKTGluZTM6CiBsaW5lMwpMaW5lNDogCiAKQ29ubmVjdGlvbjoKIGNsb3NlCgo=",
        llhttpError: 25, llhttpReason: "Missing expected CR after header value", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "sample.md", name: "No LF after CR", requestBase64: "R0VUIC8gSFRUUC8xLjENTGluZTogMQ0K", llhttpError: 2,
        llhttpReason: "Expected CRLF after version", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "sample.md", name: "Request starting with CRLF", requestBase64: "DQpHRVQgL3VybCBIVFRQLzEuMQ0KSGVhZGVyMTogVmFsdWUxDQoNCg==",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Parsing and setting flag",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENClRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkDQoNCg==", llhttpError: nil, llhttpReason: nil,
        messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Parse chunks with lowercase size",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENClRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkDQoNCmENCjAxMjM0NTY3ODkNCjANCg0K", llhttpError: nil,
        llhttpReason: nil, messagesComplete: 1, bodyBytes: 10),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Parse chunks with uppercase size",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENClRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkDQoNCkENCjAxMjM0NTY3ODkNCjANCg0K", llhttpError: nil,
        llhttpReason: nil, messagesComplete: 1, bodyBytes: 10),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "POST with `Transfer-Encoding: chunked`",
        requestBase64:
            "UE9TVCAvcG9zdF9jaHVua2VkX2FsbF95b3VyX2Jhc2UgSFRUUC8xLjENClRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkDQoNCjFlDQphbGwgeW91ciBiYXNlIGFyZSBiZWxvbmcgdG8gdXMNCjANCg0K",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 30),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Two chunks and triple zero prefixed end chunk",
        requestBase64:
            "UE9TVCAvdHdvX2NodW5rc19tdWx0X3plcm9fZW5kIEhUVFAvMS4xDQpUcmFuc2Zlci1FbmNvZGluZzogY2h1bmtlZA0KDQo1DQpoZWxsbw0KNg0KIHdvcmxkDQowMDANCg0K",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 11),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Trailing headers",
        requestBase64:
            "UE9TVCAvY2h1bmtlZF93X3RyYWlsaW5nX2hlYWRlcnMgSFRUUC8xLjENClRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkDQoNCjUNCmhlbGxvDQo2DQogd29ybGQNCjANClZhcnk6ICoNCkNvbnRlbnQtVHlwZTogdGV4dC9wbGFpbg0KDQo=",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 11),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Chunk extensions",
        requestBase64:
            "UE9TVCAvY2h1bmtlZF93X3VuaWNvcm5zX2FmdGVyX2xlbmd0aCBIVFRQLzEuMQ0KVHJhbnNmZXItRW5jb2Rpbmc6IGNodW5rZWQNCg0KNTtpbG92ZXczO3NvbXVjaGxvdmU9YXJldGhlc2VwYXJhbWV0ZXJzZm9yO2Fub3RoZXI9d2l0aHZhbHVlDQpoZWxsbw0KNjtibGFoYmxhaDtibGFoDQogd29ybGQNCjANCg==",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 0, bodyBytes: 11),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "No semicolon before chunk extensions",
        requestBase64:
            "UE9TVCAvY2h1bmtlZF93X3VuaWNvcm5zX2FmdGVyX2xlbmd0aCBIVFRQLzEuMQ0KSG9zdDogbG9jYWxob3N0DQpUcmFuc2Zlci1lbmNvZGluZzogY2h1bmtlZA0KDQoyIGVyZnJmZXJmZXJmDQphYQ0KMCBycnJyDQoNCg==",
        llhttpError: 12, llhttpReason: "Invalid character in chunk size", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "No extension after semicolon",
        requestBase64:
            "UE9TVCAvY2h1bmtlZF93X3VuaWNvcm5zX2FmdGVyX2xlbmd0aCBIVFRQLzEuMQ0KSG9zdDogbG9jYWxob3N0DQpUcmFuc2Zlci1lbmNvZGluZzogY2h1bmtlZA0KDQoyOw0KYWENCjANCg0K",
        llhttpError: 2, llhttpReason: "Invalid character in chunk extensions", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Chunk extensions quoting",
        requestBase64:
            "UE9TVCAvY2h1bmtlZF93X3VuaWNvcm5zX2FmdGVyX2xlbmd0aCBIVFRQLzEuMQ0KVHJhbnNmZXItRW5jb2Rpbmc6IGNodW5rZWQNCg0KNTtpbG92ZXczPSJJIFwibG92ZVwiOyBcXGV4dGVuc2lvbnNcXCI7c29tdWNobG92ZT0iYXJldGhlc2VwYXJhbWV0ZXJzZm9yIjtibGFoO2Zvbz1iYXINCmhlbGxvDQo2O2JsYWhibGFoO2JsYWgNCiB3b3JsZA0KMA0K",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 0, bodyBytes: 11),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Unbalanced chunk extensions quoting",
        requestBase64:
            "UE9TVCAvY2h1bmtlZF93X3VuaWNvcm5zX2FmdGVyX2xlbmd0aCBIVFRQLzEuMQ0KVHJhbnNmZXItRW5jb2Rpbmc6IGNodW5rZWQNCg0KNTtpbG92ZXczPSJhYmMiO3NvbXVjaGxvdmU9ImRlZjsgZ2hpDQpoZWxsbw0KNjtibGFoYmxhaDtibGFoDQogd29ybGQNCjANCg==",
        llhttpError: 2, llhttpReason: "Invalid character in chunk extensions quoted value", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "POST with `Transfer-Encoding` and `Content-Length`",
        requestBase64:
            "UE9TVCAvcG9zdF9pZGVudGl0eV9ib2R5X3dvcmxkP3E9c2VhcmNoI2hleSBIVFRQLzEuMQ0KQWNjZXB0OiAqLyoNClRyYW5zZmVyLUVuY29kaW5nOiBpZGVudGl0eQ0KQ29udGVudC1MZW5ndGg6IDUNCg0KV29ybGQ=",
        llhttpError: 11, llhttpReason: "Content-Length can't be present with Transfer-Encoding", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "POST with empty `Transfer-Encoding` and `Content-Length` (lenient)",
        requestBase64:
            "UE9TVCAvIEhUVFAvMS4xDQpIb3N0OiBmb28NCkNvbnRlbnQtTGVuZ3RoOiAxMA0KVHJhbnNmZXItRW5jb2Rpbmc6DQpUcmFuc2Zlci1FbmNvZGluZzoNClRyYW5zZmVyLUVuY29kaW5nOg0KDQoyDQpBQQ0KMA==",
        llhttpError: 15, llhttpReason: "Transfer-Encoding can't be present with Content-Length", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "POST with `chunked` as last transfer-encoding",
        requestBase64:
            "UE9TVCAvcG9zdF9pZGVudGl0eV9ib2R5X3dvcmxkP3E9c2VhcmNoI2hleSBIVFRQLzEuMQ0KQWNjZXB0OiAqLyoNClRyYW5zZmVyLUVuY29kaW5nOiBkZWZsYXRlLCBjaHVua2VkDQoNCjUNCldvcmxkDQowDQoNCg==",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 5),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "POST with `chunked` as last transfer-encoding (multiple headers)",
        requestBase64:
            "UE9TVCAvcG9zdF9pZGVudGl0eV9ib2R5X3dvcmxkP3E9c2VhcmNoI2hleSBIVFRQLzEuMQ0KQWNjZXB0OiAqLyoNClRyYW5zZmVyLUVuY29kaW5nOiBkZWZsYXRlDQpUcmFuc2Zlci1FbmNvZGluZzogY2h1bmtlZA0KDQo1DQpXb3JsZA0KMA0KDQo=",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 5),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "POST with `chunkedchunked` as transfer-encoding",
        requestBase64:
            "UE9TVCAvcG9zdF9pZGVudGl0eV9ib2R5X3dvcmxkP3E9c2VhcmNoI2hleSBIVFRQLzEuMQ0KQWNjZXB0OiAqLyoNClRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkY2h1bmtlZA0KDQo1DQpXb3JsZA0KMA0KDQo=",
        llhttpError: 15, llhttpReason: "Request has invalid `Transfer-Encoding`", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Missing last-chunk",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENClRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkDQoNCjMNCmZvbw0KDQo=", llhttpError: 12,
        llhttpReason: "Invalid character in chunk size", messagesComplete: 0, bodyBytes: 3),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Validate chunk parameters",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENClRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkDQoNCjMgCiAgDQpmb28NCg0K", llhttpError: 12,
        llhttpReason: "Invalid character in chunk size", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Chunk header not terminated by CRLF",
        requestBase64:
            "R0VUIC8gSFRUUC8xLjENCkhvc3Q6IGENCkNvbm5lY3Rpb246IGNsb3NlIA0KVHJhbnNmZXItRW5jb2Rpbmc6IGNodW5rZWQgDQoNCjUNDTtBQkNEDQozNA0KRQ0KMA0KDQpHRVQgLyBIVFRQLzEuMSANCkhvc3Q6IGENCkNvbnRlbnQtTGVuZ3RoOiA1DQoNCjANCg==",
        llhttpError: 2, llhttpReason: "Expected LF after chunk size", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Chunk data not terminated by CRLF",
        requestBase64:
            "R0VUIC8gSFRUUC8xLjENCkhvc3Q6IGENCkNvbm5lY3Rpb246IGNsb3NlIA0KVHJhbnNmZXItRW5jb2Rpbmc6IGNodW5rZWQgDQoNCjUNCkFCQ0RFMA0K",
        llhttpError: 2, llhttpReason: "Expected LF after chunk data", messagesComplete: 0, bodyBytes: 5),
    LLHTTPCase(
        file: "transfer-encoding.md", name: "Space after chunk header",
        requestBase64: "UFVUIC91cmwgSFRUUC8xLjENClRyYW5zZmVyLUVuY29kaW5nOiBjaHVua2VkDQoNCmEgDQowMTIzNDU2Nzg5DQowDQoNCg==", llhttpError: 12,
        llhttpReason: "Invalid character in chunk size", messagesComplete: 0, bodyBytes: 0),
    LLHTTPCase(
        file: "uri.md", name: "Quotes in URI", requestBase64: "R0VUIC93aXRoXyJsb3ZlbHkiX3F1b3Rlcz9mb289XCJiYXJcIiBIVFRQLzEuMQ0KDQo=",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "uri.md", name: "Query URL with question mark", requestBase64: "R0VUIC90ZXN0LmNnaT9mb289YmFyP2JheiBIVFRQLzEuMQ0KDQo=",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "uri.md", name: "Host terminated by a query string",
        requestBase64: "R0VUIGh0dHA6Ly9oeXBub3RvYWQub3JnP2hhaWw9YWxsIEhUVFAvMS4xDQoNCg0K", llhttpError: nil, llhttpReason: nil,
        messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "uri.md", name: "`host:port` terminated by a query string",
        requestBase64: "R0VUIGh0dHA6Ly9oeXBub3RvYWQub3JnOjEyMzQ/aGFpbD1hbGwgSFRUUC8xLjENCg0K", llhttpError: nil, llhttpReason: nil,
        messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "uri.md", name: "Query URL with vertical bar character", requestBase64: "R0VUIC90ZXN0LmNnaT9xdWVyeT18IEhUVFAvMS4xDQoNCg==",
        llhttpError: nil, llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "uri.md", name: "`host:port` terminated by a space",
        requestBase64: "R0VUIGh0dHA6Ly9oeXBub3RvYWQub3JnOjEyMzQgSFRUUC8xLjENCg0K", llhttpError: nil, llhttpReason: nil, messagesComplete: 1,
        bodyBytes: 0),
    LLHTTPCase(
        file: "uri.md", name: "Fragment in URI",
        requestBase64: "R0VUIC9mb3J1bXMvMS90b3BpY3MvMjM3NT9wYWdlPTEjcG9zdHMtMTc0MDggSFRUUC8xLjENCg0K", llhttpError: nil, llhttpReason: nil,
        messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "uri.md", name: "Underscore in hostname",
        requestBase64:
            "Q09OTkVDVCBob21lXzAubmV0c2NhcGUuY29tOjQ0MyBIVFRQLzEuMA0KVXNlci1hZ2VudDogTW96aWxsYS8xLjFODQpQcm94eS1hdXRob3JpemF0aW9uOiBiYXNpYyBhR1ZzYkc4NmQyOXliR1E9DQoNCg==",
        llhttpError: 22, llhttpReason: "Pause on CONNECT/Upgrade", messagesComplete: 1, bodyBytes: 0),
    LLHTTPCase(
        file: "uri.md", name: "`host:port` and basic auth",
        requestBase64: "R0VUIGh0dHA6Ly9hJTEyOmIhJiokQGh5cG5vdG9hZC5vcmc6MTIzNC90b3RvIEhUVFAvMS4xDQoNCg==", llhttpError: nil,
        llhttpReason: nil, messagesComplete: 1, bodyBytes: 0),
]
