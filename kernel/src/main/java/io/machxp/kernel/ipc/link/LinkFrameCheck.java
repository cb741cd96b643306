package io.machxp.kernel.ipc.link;

import io.machxp.kernel.ipc.MsgType;
import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkItem;
import io.machxp.proto.link.LinkRight;

/**
 * What ipc_link.proto allows in a frame, checked on the link before the IPC core sees it: the core
 * trusts what it is given (a right of an unknown type would stop it half-way through a frame,
 * with the rest of the read lost). A frame that breaks a rule means a broken or hostile peer: its
 * link ends as for a frame out of sequence (fail-stop), with the rule in the log.
 * <pre>
 *  every LinkRight     type PORT_RECEIVE 16, PORT_SEND 17 or PORT_SEND_ONCE 18; a migration
 *                      only with PORT_RECEIVE (its requests' rights checked too); an
 *                      origin_peer with a host, host and certificate of at most 64 characters
 *  LinkMessage.dest    PORT_SEND or PORT_SEND_ONCE
 *  LinkItem            one of its fields set; null_right a disposition (15-21)
 *  LinkInsertRight     a PORT_SEND or PORT_SEND_ONCE right
 *  RefTransfer         a port, and a kernel (1 or more) it goes to; by_receiver only with a sender
 *  RefRelease          a port, its kernel, and a count of 1 or more
 *  PortDied, PortFlush a port
 *  LinkConsumed        anything (a ticket this kernel did not give is ignored)
 * </pre>
 */
final class LinkFrameCheck {
    /**
     * The longest host or certificate of a right's origin_peer: a ClientPeer's are at most an
     * IPv6 /64 (about 30 characters) and 32 hex digits; a longer one is a broken peer's, and would make
     * a key of the name budget here as long.
     */
    static final int MAX_PEER_FIELD = 64;

    private LinkFrameCheck() {}

    /** What is wrong with {@code f}, or null. */
    static String problem(LinkFrame f) {
        return switch (f.getBodyCase()) {
            case MESSAGE -> message(f.getMessage());
            case INSERT -> {
                int t = f.getInsert().getRight().getType();
                yield t != MsgType.PORT_SEND.value && t != MsgType.PORT_SEND_ONCE.value
                        ? "LinkInsertRight carries a right of type " + t + ", not PORT_SEND 17 or PORT_SEND_ONCE 18"
                        : right("LinkInsertRight.right", -1, f.getInsert().getRight());
            }
            case TRANSFER -> !f.getTransfer().hasPort() || f.getTransfer().getTo() < 1
                    ? "RefTransfer without a port or a kernel (to " + f.getTransfer().getTo() + ")"
                    : f.getTransfer().getByReceiver() && f.getTransfer().getSender() == 0
                    ? "RefTransfer by the receiver without the kernel that sent the right" : null;
            case RELEASE -> !f.getRelease().hasPort() || f.getRelease().getFrom() < 1 || f.getRelease().getCount() < 1
                    ? "RefRelease without a port or a kernel, or of a count below 1 (" + f.getRelease().getCount() + ")"
                    : null;
            case PORT_DIED -> f.getPortDied().hasPort() ? null : "PortDied without a port";
            case FLUSH -> f.getFlush().hasPort() ? null : "PortFlush without a port";
            case CONSUMED, KEEPALIVE -> null; // LinkConsumed: tickets this kernel did not give are ignored
            case HELLO -> null; // the link decides about hellos
            case REFUSED -> "a LinkRefused on a link (it only goes back on a connection it refuses)";
            case BODY_NOT_SET -> "a frame with no body";
        };
    }

    private static String message(io.machxp.proto.link.LinkMessage m) {
        int d = m.getDest().getType();
        if (d != MsgType.PORT_SEND.value && d != MsgType.PORT_SEND_ONCE.value) {
            return "LinkMessage.dest of type " + d + ", not PORT_SEND 17 or PORT_SEND_ONCE 18";
        }
        String bad = right("LinkMessage.dest", -1, m.getDest());
        if (bad == null && m.hasReply()) {
            bad = right("LinkMessage.reply", -1, m.getReply());
        }
        for (int i = 0; bad == null && i < m.getItemsCount(); i++) {
            LinkItem item = m.getItems(i);
            bad = switch (item.getItemCase()) {
                case RIGHT -> right("LinkMessage item", i, item.getRight());
                case NULL_RIGHT -> MsgType.of(item.getNullRight()) == null
                        ? "LinkMessage item " + i + ": null_right of type " + item.getNullRight() + ", not a disposition (15-21)"
                        : null;
                case ITEM_NOT_SET -> "LinkMessage item " + i + " has none of its fields set";
                default -> null;
            };
        }
        return bad;
    }

    /**
     * What is wrong with the right {@code r} at {@code where} (item {@code item} of it, or -1), or
     * null. The place is put into words only for a problem: every right of every frame passes here.
     */
    private static String right(String where, int item, LinkRight r) {
        int t = r.getType();
        if (t != MsgType.PORT_RECEIVE.value && t != MsgType.PORT_SEND.value && t != MsgType.PORT_SEND_ONCE.value) {
            return place(where, item) + ": a right of type " + t + ", not PORT_RECEIVE 16, PORT_SEND 17 or PORT_SEND_ONCE 18";
        }
        if (r.hasOriginPeer() && (r.getOriginPeer().getHost().isEmpty()
                || r.getOriginPeer().getHost().length() > MAX_PEER_FIELD
                || r.getOriginPeer().getCertificate().length() > MAX_PEER_FIELD)) {
            return place(where, item) + ": an origin_peer with an empty host, or a host or certificate over "
                    + MAX_PEER_FIELD + " characters";
        }
        if (!r.hasMigration()) {
            return null;
        }
        if (t != MsgType.PORT_RECEIVE.value) {
            return place(where, item) + ": a migration with a right of type " + t + ", not PORT_RECEIVE 16";
        }
        var m = r.getMigration();
        String bad = m.hasNsRequest() ? right(place(where, item) + " no-senders request", -1, m.getNsRequest()) : null;
        return bad == null && m.hasPdRequest() ? right(place(where, item) + " port-destroyed request", -1, m.getPdRequest()) : bad;
    }

    private static String place(String where, int item) {
        return item < 0 ? where : where + " " + item;
    }
}
