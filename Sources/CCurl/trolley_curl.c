#include "trolley_curl.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
  unsigned char *data;
  size_t length;
  size_t capacity;
  size_t max_bytes;
  int too_large;
} body_buffer;

static size_t write_body(char *chunk, size_t size, size_t count, void *context) {
  body_buffer *buffer = (body_buffer *)context;
  size_t n = size * count;
  if (buffer->length + n > buffer->max_bytes) {
    buffer->too_large = 1;
    return 0; /* returning less than n makes libcurl abort with CURLE_WRITE_ERROR */
  }
  if (buffer->length + n > buffer->capacity) {
    size_t capacity = buffer->capacity ? buffer->capacity : 65536;
    while (capacity < buffer->length + n) capacity *= 2;
    if (capacity > buffer->max_bytes) capacity = buffer->max_bytes;
    unsigned char *grown = realloc(buffer->data, capacity);
    if (grown == NULL) return 0;
    buffer->data = grown;
    buffer->capacity = capacity;
  }
  memcpy(buffer->data + buffer->length, chunk, n);
  buffer->length += n;
  return n;
}

void trolley_curl_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* Addresses a job's URL must not reach unless private URLs are allowed: loopback, private
   networks, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast,
   reserved and unspecified ranges. */
static int private_ipv4(uint32_t a) {
  return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
         (a >> 20) == (172u << 4 | 1) ||           /* 172.16.0.0/12 */
         (a >> 16) == (192u << 8 | 168) ||         /* 192.168.0.0/16 */
         (a >> 16) == (169u << 8 | 254) ||         /* 169.254.0.0/16 */
         (a >> 22) == (100u << 2 | 1) ||           /* 100.64.0.0/10 */
         (a >> 8) == (192u << 16 | 0 << 8 | 0) ||  /* 192.0.0.0/24 */
         (a >> 17) == (198u << 7 | 9) ||           /* 198.18.0.0/15 */
         (a >> 28) >= 14;                          /* 224.0.0.0/4 multicast, 240.0.0.0/4 */
}

int trolley_is_private_address(const struct sockaddr *address) {
  if (address->sa_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
    return private_ipv4(ntohl(v4->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    const unsigned char *b = ((const struct sockaddr_in6 *)address)->sin6_addr.s6_addr;
    static const unsigned char zeros[16] = {0};
    if (memcmp(b, zeros, 15) == 0 && (b[15] == 0 || b[15] == 1)) return 1; /* :: and ::1 */
    /* ::ffff:a.b.c.d (mapped) and 64:ff9b::a.b.c.d (NAT64) carry an IPv4 address. */
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0 || memcmp(b, zeros, 12) == 0) {
      uint32_t a = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
      return private_ipv4(a);
    }
    if ((b[0] & 0xfe) == 0xfc) return 1;                  /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return 1;  /* fe80::/10 link-local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return 1;  /* fec0::/10 site-local */
    if (b[0] == 0xff) return 1;                           /* multicast */
    return 0;
  }
  return 1; /* anything else (unix sockets...) is not a public address */
}

typedef struct {
  int allow_private;
  int exempt_loopback_port;
  int blocked;
  char blocked_address[64];
} socket_guard;

/* Tests only: 127.0.0.1:port stands in for a public server, so that a loopback server can
   redirect to another private address and the refusal of that second hop is observable. */
static int is_exempt(const struct sockaddr *address, int port) {
  if (port <= 0 || address->sa_family != AF_INET) return 0;
  const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
  return ntohl(v4->sin_addr.s_addr) == 0x7f000001u && ntohs(v4->sin_port) == port;
}

/* Called for every connection libcurl opens, after DNS resolution and again after every
   redirect, with the address it is about to connect to: the only check a DNS answer that
   changes between a check and the connection (rebinding) cannot slip past. */
static curl_socket_t open_checked_socket(void *context, curlsocktype purpose,
                                         struct curl_sockaddr *address) {
  socket_guard *guard = (socket_guard *)context;
  (void)purpose;
  if (!guard->allow_private && trolley_is_private_address(&address->addr) &&
      !is_exempt(&address->addr, guard->exempt_loopback_port)) {
    guard->blocked = 1;
    if (address->family == AF_INET) {
      inet_ntop(AF_INET, &((struct sockaddr_in *)&address->addr)->sin_addr,
                guard->blocked_address, sizeof(guard->blocked_address));
    } else if (address->family == AF_INET6) {
      inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&address->addr)->sin6_addr,
                guard->blocked_address, sizeof(guard->blocked_address));
    }
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

/* Runs the transfer set up on `curl`, then frees the handle. The response's HTTP status goes to
   `http_status`; on failure, libcurl's own message (or the generic one for the code) goes to
   `message`, which must hold `message_size` bytes and end in a zero byte already. */
static CURLcode perform_transfer(CURL *curl, long *http_status, char *message,
                                 size_t message_size) {
  char error[CURL_ERROR_SIZE];
  error[0] = 0;
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, http_status);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) strncpy(message, error[0] ? error : curl_easy_strerror(code), message_size - 1);
  return code;
}

void trolley_fetch_url(const char *url, long connect_timeout_ms, long stall_timeout_ms,
                       long total_timeout_ms, size_t max_bytes, int allow_private,
                       int exempt_loopback_port, trolley_fetch_result *result) {
  memset(result, 0, sizeof(*result));
  CURL *curl = curl_easy_init();
  if (curl == NULL) {
    result->curl_code = CURLE_FAILED_INIT;
    strncpy(result->error, "could not initialise libcurl", sizeof(result->error) - 1);
    return;
  }
  body_buffer buffer = {NULL, 0, 0, max_bytes, 0};
  socket_guard guard = {allow_private, exempt_loopback_port, 0, {0}};
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &guard);
  /* A proxy would resolve and connect for us, past the check above. */
  if (!allow_private) curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* required for timeouts in multi-threaded programs */
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, total_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (stall_timeout_ms + 999) / 1000);
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "trolley/0.1");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buffer);
  CURLcode code =
      perform_transfer(curl, &result->http_status, result->error, sizeof(result->error));

  result->curl_code = (int)code;
  result->blocked_private = guard.blocked;
  memcpy(result->blocked_address, guard.blocked_address, sizeof(result->blocked_address));
  result->too_large = buffer.too_large || code == CURLE_FILESIZE_EXCEEDED;
  if (code != CURLE_OK) {
    free(buffer.data);
    return;
  }
  result->body = buffer.data;
  result->body_length = buffer.length;
}

void trolley_fetch_result_free(trolley_fetch_result *result) {
  free(result->body);
  result->body = NULL;
  result->body_length = 0;
}

typedef struct {
  FILE *file;
  CURL *curl;
  long long resume_from;
  long long bytes;
  int checked;
  int resumed;
  trolley_download_progress progress;
  void *progress_context;
} file_sink;

static size_t write_file(char *chunk, size_t size, size_t count, void *context) {
  file_sink *sink = (file_sink *)context;
  size_t n = size * count;
  if (!sink->checked) {
    /* The status is known once the body starts: 206 continues the partial file, anything else
       is the whole file, written from the start. */
    sink->checked = 1;
    long status = 0;
    curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
    if (sink->resume_from > 0 && status == 206) {
      sink->resumed = 1;
      sink->bytes = sink->resume_from;
    } else {
      if (fflush(sink->file) != 0 || ftruncate(fileno(sink->file), 0) != 0 ||
          fseek(sink->file, 0, SEEK_SET) != 0) {
        return 0;
      }
      sink->bytes = 0;
    }
  }
  if (fwrite(chunk, 1, n, sink->file) != n) return 0;
  sink->bytes += (long long)n;
  if (sink->progress) sink->progress(sink->progress_context, sink->bytes);
  return n;
}

void trolley_download_file(const char *url, const char *authorization, const char *path,
                           long long resume_from, long connect_timeout_ms, long stall_timeout_ms,
                           trolley_download_progress progress, void *progress_context,
                           trolley_download_result *result) {
  memset(result, 0, sizeof(*result));
  FILE *file = fopen(path, resume_from > 0 ? "ab" : "wb");
  if (file == NULL) {
    result->curl_code = CURLE_WRITE_ERROR;
    snprintf(result->error, sizeof(result->error), "cannot open %s for writing", path);
    return;
  }
  CURL *curl = curl_easy_init();
  if (curl == NULL) {
    fclose(file);
    result->curl_code = CURLE_FAILED_INIT;
    strncpy(result->error, "could not initialise libcurl", sizeof(result->error) - 1);
    return;
  }
  file_sink sink = {file, curl, resume_from, resume_from, 0, 0, progress, progress_context};
  struct curl_slist *headers = NULL;
  if (authorization != NULL) {
    char header[4096];
    snprintf(header, sizeof(header), "Authorization: %s", authorization);
    headers = curl_slist_append(headers, header);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  }
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (stall_timeout_ms + 999) / 1000);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "trolley");
  if (resume_from > 0) curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)resume_from);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_file);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  CURLcode code =
      perform_transfer(curl, &result->http_status, result->error, sizeof(result->error));
  curl_slist_free_all(headers);
  if (fclose(file) != 0 && code == CURLE_OK) {
    code = CURLE_WRITE_ERROR;
    strncpy(result->error, curl_easy_strerror(code), sizeof(result->error) - 1);
  }

  result->curl_code = (int)code;
  result->file_bytes = sink.checked ? sink.bytes : resume_from;
  result->resumed = sink.resumed;
}
