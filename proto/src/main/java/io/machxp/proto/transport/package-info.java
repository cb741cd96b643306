/**
 * How machxp processes secure their gRPC connections: {@link io.machxp.proto.transport.Transport}
 * (the policy: mutual TLS, or plaintext only on loopback unless allowed explicitly) and
 * {@link io.machxp.proto.transport.TlsFiles} (certificate, key and CA files, checked at startup), and
 * {@link io.machxp.proto.transport.SocketErrors} (the words of a socket that failed, as every command
 * prints them).
 *
 * <p>Why here, in the proto module: this is the one module that the pager, the kernel and the
 * client all depend on, and the code needs nothing the module does not already bring (grpc-api's
 * credentials and the JDK's TLS). Both ends of each connection must follow the same policy, so it is
 * written once, next to the wire contracts it protects, rather than copied into kernel and pager; a
 * module of its own for these few classes would not earn its place.
 */
package io.machxp.proto.transport;
