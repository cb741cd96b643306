package io.machxp.pager.net;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.machxp.proto.transport.ClientPeer;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Which peer an XP stream comes from ({@link ClientPeer}: its host, and its certificate with
 * mutual TLS), the pager's unit of "one client" for what its kernels share: the loop's turns
 * ({@link StreamTurns}) and a replicated leader's appends ({@code AppendWindow}). One host that
 * opens many XP sessions is one peer, so it gets no more of either than one kernel would
 * (review burst M2). The kernels of one host with one certificate, or none (every local kernel in
 * plaintext, {@code machxp scale}'s in one JVM), are one peer too: they share it.
 * {@link #INTERCEPTOR} puts the call's peer in its context, where {@link #current} reads it.
 */
public final class CallerPeer {
    private static final Context.Key<ClientPeer> CURRENT = Context.key("machxp.peer");

    /** Makes the call's peer {@link #current} while its handlers (the service method among them) run. */
    public static final ServerInterceptor INTERCEPTOR = new ServerInterceptor() {
        @Override
        public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                ServerCallHandler<Q, A> next) {
            ClientPeer peer = ClientPeer.of(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR),
                    chain(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)));
            return Contexts.interceptCall(Context.current().withValue(CURRENT, peer), call, headers, next);
        }
    };

    /** The peer of the call being handled on this thread; null outside a call or without {@link #INTERCEPTOR}. */
    public static ClientPeer current() {
        return CURRENT.get();
    }

    /** A context in which {@code peer} is {@link #current} (a test's stream, opened in it). */
    public static Context context(ClientPeer peer) {
        return Context.current().withValue(CURRENT, peer);
    }

    private static java.security.cert.Certificate[] chain(SSLSession tls) {
        try {
            return tls == null ? null : tls.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    private CallerPeer() {}
}
