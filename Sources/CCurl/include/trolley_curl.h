#ifndef TROLLEY_CURL_H
#define TROLLEY_CURL_H

#include <stddef.h>

/// The outcome of one HTTP(S) download.
typedef struct {
  /// The body (malloc'd; free with trolley_fetch_result_free). NULL when nothing was received.
  unsigned char *body;
  size_t body_length;
  /// The HTTP status code, or 0 when no response arrived.
  long http_status;
  /// The libcurl result code (0 = CURLE_OK).
  int curl_code;
  /// 1 when the transfer was stopped because the body exceeded max_bytes.
  int too_large;
  /// A human-readable error from libcurl, empty on success.
  char error[256];
  /// 1 when a connection was refused because its address is private (loopback, LAN,
  /// link-local...) and private addresses were not allowed; the address is in blocked_address.
  int blocked_private;
  char blocked_address[64];
} trolley_fetch_result;

/// Downloads `url` into memory with libcurl, blocking the calling thread.
///
/// connect_timeout_ms bounds the TCP/TLS connect; stall_timeout_ms aborts a transfer that receives
/// less than one byte per second for that long (a slow server); total_timeout_ms bounds everything.
/// max_bytes stops the transfer (too_large = 1) as soon as the body would exceed it.
/// Downloads `url`. Unless `allow_private`, every connection (after DNS resolution, and after
/// every redirect) to a private, loopback, link-local or reserved address is refused.
/// exempt_loopback_port > 0 (tests only) lets 127.0.0.1 on that one port pass as public.
void trolley_fetch_url(const char *url, long connect_timeout_ms, long stall_timeout_ms,
                       long total_timeout_ms, size_t max_bytes, int allow_private,
                       int exempt_loopback_port, trolley_fetch_result *result);

void trolley_fetch_result_free(trolley_fetch_result *result);

/// Called during a download with the bytes of the file so far (including a resumed part).
typedef void (*trolley_download_progress)(void *context, long long bytes);

/// The outcome of one download to a file.
typedef struct {
  /// The final HTTP status (after redirects), or 0 when no response arrived.
  long http_status;
  /// The libcurl result code (0 = CURLE_OK; 22 = an HTTP error status).
  int curl_code;
  /// Bytes in the file when the transfer ended.
  long long file_bytes;
  /// 1 when the server honoured the range request and the file was appended to.
  int resumed;
  char error[256];
} trolley_download_result;

/// Downloads `url` into the file at `path`, following redirects, blocking the calling thread.
///
/// With resume_from > 0 the file must hold that many bytes already: a `Range` request asks for
/// the rest and the file is appended to; a server that answers 200 instead of 206 gets the file
/// rewritten from the start. `authorization` (or NULL) is sent as the Authorization header, to
/// the first host only (libcurl drops it on redirects to another host, as the hub's CDN
/// expects). HTTP error statuses fail the transfer (curl_code 22, http_status set).
void trolley_download_file(const char *url, const char *authorization, const char *path,
                           long long resume_from, long connect_timeout_ms, long stall_timeout_ms,
                           trolley_download_progress progress, void *progress_context,
                           trolley_download_result *result);

/// Call once per process before any thread calls trolley_fetch_url.
void trolley_curl_global_init(void);

#endif
