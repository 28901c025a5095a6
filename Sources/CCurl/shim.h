// libcurl for keyturn's URLProtocol. curl_easy_setopt and curl_easy_getinfo are variadic,
// which Swift cannot call, so each shim below fixes one argument type.
#ifndef KEYTURN_CCURL_SHIM_H
#define KEYTURN_CCURL_SHIM_H

#include <curl/curl.h>

/// Callback types curl calls with our context pointer.
typedef size_t (*kt_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*kt_curl_progress_cb)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

/// Options that take a long (flags, timeouts, verification switches).
static inline CURLcode kt_curl_set_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
/// Options that take a curl_off_t (body sizes).
static inline CURLcode kt_curl_set_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
/// Options that take a string; curl copies it.
static inline CURLcode kt_curl_set_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
/// Options that take a pointer curl does not copy (body bytes, callback context).
static inline CURLcode kt_curl_set_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
/// Options that take a string list (headers, CONNECT_TO).
static inline CURLcode kt_curl_set_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
/// The write and header callbacks.
static inline CURLcode kt_curl_set_data_cb(CURL *h, CURLoption o, kt_curl_data_cb cb) { return curl_easy_setopt(h, o, cb); }
/// The progress callback, used to abort a cancelled transfer.
static inline CURLcode kt_curl_set_progress_cb(CURL *h, kt_curl_progress_cb cb) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cb); }
/// Reads a long from a finished transfer (the HTTP status).
static inline CURLcode kt_curl_get_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }

/// Reads a pointer from a finished transfer (the certificate chain with CURLINFO_CERTINFO).
static inline CURLcode kt_curl_get_certinfo(CURL *h, struct curl_certinfo **v) { return curl_easy_getinfo(h, CURLINFO_CERTINFO, v); }

#endif
