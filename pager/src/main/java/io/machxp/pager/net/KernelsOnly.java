package io.machxp.pager.net;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.machxp.proto.task.Errno;
import io.machxp.proto.transport.PeerCertificates;
import javax.net.ssl.SSLSession;

/**
 * Who may open an XP stream: over mutual TLS, only a peer whose certificate names it a kernel
 * (common name {@value #KERNEL_NAME}, as {@code machxp certs} makes it). A client's certificate,
 * signed by the same CA, may read the pager's counters but not speak XP. Plaintext (loopback, or
 * --plaintext) has no certificates and is not checked.
 */
public final class KernelsOnly implements ServerInterceptor {
    public static final String KERNEL_NAME = PeerCertificates.KERNEL;

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
            ServerCallHandler<Q, A> next) {
        SSLSession tls = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (tls == null) {
            return next.startCall(call, headers);
        }
        String name = PeerCertificates.commonName(tls);
        if (KERNEL_NAME.equals(name)) {
            return next.startCall(call, headers);
        }
        StatusRuntimeException e = XpService.error(Errno.EPERM, "XP streams are for kernels: the certificate of '"
                + name + "' is not a kernel's (common name '" + KERNEL_NAME + "'); start the kernel with its own "
                + "certificate");
        call.close(e.getStatus(), e.getTrailers() == null ? new Metadata() : e.getTrailers());
        return new ServerCall.Listener<>() { };
    }
}
