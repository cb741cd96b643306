package io.machxp.kernel.ipc;

import io.machxp.proto.link.LinkPeer;
import io.machxp.proto.link.LinkRight;
import io.machxp.proto.transport.ClientPeer;

/**
 * A carried right's payer ({@link Carried#payer}) across a link: whose share of the receiving
 * kernel's port names a name made there for the right in a task without an owner counts in.
 * <pre>
 *  payer here                                   on the wire          payer there
 *  an owner whose peer is a ClientPeer (a       origin_peer: its     LinkedPeer(that peer): the
 *    client's connection), or a LinkedPeer        host, certificate    peer's share there
 *  none (in-process), a linked kernel, an       nothing              LinkedKernel(this kernel)
 *    owner of another kind (tests)
 * </pre>
 * A kernel that does not know origin_peer (a newer field of LinkRight) counts every right to the
 * kernel that brought it, as before (review late11 LOW-N6).
 */
final class LinkPayer {
    private LinkPayer() {}

    /** Puts {@code payer}'s client peer, if it has one, on {@code b}. */
    static void write(Object payer, LinkRight.Builder b) {
        ClientPeer peer = payer instanceof NameOwner o && o.peer() instanceof ClientPeer p ? p : null;
        if (peer != null) {
            b.setOriginPeer(LinkPeer.newBuilder().setHost(peer.host()).setCertificate(peer.certificate()));
        }
    }

    /** The payer of a right {@code r} that kernel {@code from} sent. */
    static Object read(LinkRight r, int from) {
        if (!r.hasOriginPeer()) {
            return new LinkedKernel(from);
        }
        return new LinkedPeer(new ClientPeer(r.getOriginPeer().getHost(), r.getOriginPeer().getCertificate()));
    }
}
