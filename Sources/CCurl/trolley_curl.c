#include "trolley_curl.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
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
  char error[CURL_ERROR_SIZE];
  error[0] = 0;
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);

  CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result->http_status);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  if (fclose(file) != 0 && code == CURLE_OK) code = CURLE_WRITE_ERROR;

  result->curl_code = (int)code;
  result->file_bytes = sink.checked ? sink.bytes : resume_from;
  result->resumed = sink.resumed;
  if (code != CURLE_OK) {
    const char *message = error[0] ? error : curl_easy_strerror(code);
    strncpy(result->error, message, sizeof(result->error) - 1);
  }
}
