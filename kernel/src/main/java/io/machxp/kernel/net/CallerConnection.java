package io.machxp.kernel.net;

import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerTransportFilter;
import io.machxp.kernel.ipc.NameOwner;
import io.machxp.proto.transport.ClientPeer;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Which client connection a call came on: the kernel's unit of "one client" for its shares of
 * resources that every task of the kernel draws on (its port names: {@code NameBudget}). Each
 * transport gets an identity object of its own when it is ready ({@link #FILTER}), which also
 * names the {@link ClientPeer} it comes from (its host and TLS certificate: the connections of
 * one peer share the peer's part); the {@link #INTERCEPTOR} puts it in the call's context, where
 * {@link #current} reads it.
 */
public final class CallerConnection {
    private static final Attributes.Key<Object> IDENTITY = Attributes.Key.create("machxp.connection");
    private static final Context.Key<Object> CURRENT = Context.key("machxp.connection");

    /** Gives each connection its identity. */
    public static final ServerTransportFilter FILTER = new ServerTransportFilter() {
        @Override
        public Attributes transportReady(Attributes attributes) {
            return attributes.toBuilder().set(IDENTITY, new Connection(ClientPeer.of(
                    attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), chain(attributes.get(Grpc.TRANSPORT_ATTR_SSL_SESSION)))))
                    .build();
        }
    };

    /** Makes the call's connection {@link #current} while the call's handlers run. */
    public static final ServerInterceptor INTERCEPTOR = new ServerInterceptor() {
        @Override
        public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                ServerCallHandler<Q, A> next) {
            Object connection = call.getAttributes().get(IDENTITY);
            return connection == null ? next.startCall(call, headers)
                    : Contexts.interceptCall(Context.current().withValue(CURRENT, connection), call, headers, next);
        }
    };

    /** The connection of the call being handled on this thread; null outside a call or without {@link #FILTER}. */
    public static Object current() {
        return CURRENT.get();
    }

    private static java.security.cert.Certificate[] chain(SSLSession tls) {
        try {
            return tls == null ? null : tls.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    /** One connection's identity (by reference), and its peer's. */
    private static final class Connection implements NameOwner {
        private static final java.util.concurrent.atomic.AtomicLong NEXT = new java.util.concurrent.atomic.AtomicLong();
        private final long number = NEXT.incrementAndGet();
        private final ClientPeer peer;

        Connection(ClientPeer peer) {
            this.peer = peer;
        }

        @Override
        public Object peer() {
            return peer;
        }

        @Override
        public String toString() {
            return "connection " + number + " from " + peer;
        }
    }

    private CallerConnection() {}
}
