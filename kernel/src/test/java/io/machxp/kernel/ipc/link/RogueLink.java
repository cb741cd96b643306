package io.machxp.kernel.ipc.link;

import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkHello;
import io.machxp.proto.link.LinkKeepalive;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;

/**
 * The rogue side of a link probe: a raw socket speaking the wire format of ipc_link.proto by hand
 * (a 4-byte big-endian length, then one LinkFrame), or not speaking it. Nothing of the kernel's
 * link code is used on this side.
 */
final class RogueLink implements AutoCloseable {
    final Socket socket;
    private final DataOutputStream out;
    private final DataInputStream in;
    private long seq;

    RogueLink(InetSocketAddress kernel) {
        try {
            socket = new Socket(kernel.getAddress(), kernel.getPort());
            socket.setSoTimeout(15_000);
            out = new DataOutputStream(socket.getOutputStream());
            in = new DataInputStream(socket.getInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A hello as an honest kernel sends it: no seq. */
    RogueLink hello(int kernel, long incarnation, int session) {
        return hello(kernel, incarnation, session, 60_000);
    }

    /** A hello naming {@code leaseMillis}. */
    RogueLink hello(int kernel, long incarnation, int session, long leaseMillis) {
        return raw(LinkFrame.newBuilder().setHello(LinkHello.newBuilder().setKernel(kernel).setIncarnation(incarnation)
                .setLeaseMillis(leaseMillis).setSession(session)).build());
    }

    /** {@code body} with the next seq. */
    RogueLink next(LinkFrame.Builder body) {
        return raw(body.setSeq(++seq).build());
    }

    RogueLink keepalive() {
        return next(LinkFrame.newBuilder().setKeepalive(LinkKeepalive.getDefaultInstance()));
    }

    /** One frame as given (its seq untouched). */
    RogueLink raw(LinkFrame f) {
        byte[] b = f.toByteArray();
        return bytes(length(b.length), b);
    }

    static byte[] length(int n) {
        return new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n};
    }

    RogueLink bytes(byte[]... parts) {
        try {
            for (byte[] p : parts) {
                out.write(p);
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Whether the kernel closed the connection within {@code millis} (false: it is still open). */
    boolean closedWithin(int millis) {
        try {
            socket.setSoTimeout(millis);
            return in.read() < 0; // the kernel never writes on a link it accepted
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits (15 s at most) for the kernel to close the connection. */
    boolean closedByKernel() {
        return closedWithin(15_000);
    }

    /** The next frame on a connection a kernel dialled to the rogue. */
    static LinkFrame read(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return LinkFrame.parseFrom(b);
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing
        }
    }
}
