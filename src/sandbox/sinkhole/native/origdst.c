/*
 * originalDst(fd) -> { address, port } | null
 *
 * The sinkhole's TCP listener receives connections that iptables REDIRECTed to it; the
 * address the client really dialled survives only in conntrack, and the one way to ask for
 * it from an accepted socket is getsockopt(SO_ORIGINAL_DST), which node does not expose.
 * Built inside the sandbox image with plain gcc against node's own headers (see the
 * Dockerfile), so it needs no node-gyp and no network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <node_api.h>

/* From <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>, whose userspace
 * headers clash with <netinet/in.h> on some libcs. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static napi_value make_result(napi_env env, const char *address, unsigned port) {
  napi_value obj, addr, prt;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &addr) != napi_ok) return NULL;
  if (napi_create_uint32(env, port, &prt) != napi_ok) return NULL;
  napi_set_named_property(env, obj, "address", addr);
  napi_set_named_property(env, obj, "port", prt);
  return obj;
}

static napi_value null_value(napi_env env) {
  napi_value v;
  napi_get_null(env, &v);
  return v;
}

/* Tries IPv4 first: a dual-stack socket carrying an IPv4 connection answers there. */
static napi_value original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return null_value(env);
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return null_value(env);

  char text[INET6_ADDRSTRLEN];
  struct sockaddr_in v4;
  socklen_t len = sizeof v4;
  memset(&v4, 0, sizeof v4);
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &v4, &len) == 0 && v4.sin_family == AF_INET) {
    if (inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text) == NULL) return null_value(env);
    napi_value r = make_result(env, text, ntohs(v4.sin_port));
    return r ? r : null_value(env);
  }

  struct sockaddr_in6 v6;
  len = sizeof v6;
  memset(&v6, 0, sizeof v6);
  if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &v6, &len) == 0 && v6.sin6_family == AF_INET6) {
    if (inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text) == NULL) return null_value(env);
    napi_value r = make_result(env, text, ntohs(v6.sin6_port));
    return r ? r : null_value(env);
  }
  return null_value(env);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "originalDst", NAPI_AUTO_LENGTH, original_dst, NULL, &fn) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "originalDst", fn);
  return exports;
}

NAPI_MODULE(origdst, init)
