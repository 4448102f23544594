#include "trolley_curl.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

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

void trolley_fetch_url(const char *url, long connect_timeout_ms, long stall_timeout_ms,
                       long total_timeout_ms, size_t max_bytes, trolley_fetch_result *result) {
  memset(result, 0, sizeof(*result));
  CURL *curl = curl_easy_init();
  if (curl == NULL) {
    result->curl_code = CURLE_FAILED_INIT;
    strncpy(result->error, "could not initialise libcurl", sizeof(result->error) - 1);
    return;
  }
  body_buffer buffer = {NULL, 0, 0, max_bytes, 0};
  curl_easy_setopt(curl, CURLOPT_URL, url);
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
  char error[CURL_ERROR_SIZE];
  error[0] = 0;
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);

  CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result->http_status);
  curl_easy_cleanup(curl);

  result->curl_code = (int)code;
  result->too_large = buffer.too_large || code == CURLE_FILESIZE_EXCEEDED;
  if (code != CURLE_OK) {
    const char *message = error[0] ? error : curl_easy_strerror(code);
    strncpy(result->error, message, sizeof(result->error) - 1);
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
