package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkItem;
import io.machxp.proto.link.LinkMessage;
import io.machxp.proto.link.LinkPeer;
import io.machxp.proto.link.LinkRight;
import org.junit.jupiter.api.Test;

/**
 * A right's origin_peer (the client's peer it carries, review late11 LOW-N6) becomes a key of the
 * receiving kernel's name budget, so the link refuses one a ClientPeer cannot be: an empty host,
 * or a host or certificate longer than {@link LinkFrameCheck#MAX_PEER_FIELD}.
 */
class LinkFrameCheckPeerTest {
    private static LinkFrame messageWithItemPeer(String host, String certificate) {
        LinkRight dest = LinkRight.newBuilder().setType(17).build();
        LinkRight item = LinkRight.newBuilder().setType(18)
                .setOriginPeer(LinkPeer.newBuilder().setHost(host).setCertificate(certificate)).build();
        return LinkFrame.newBuilder().setMessage(LinkMessage.newBuilder().setDest(dest)
                .addItems(LinkItem.newBuilder().setRight(item))).build();
    }

    @Test
    void aClientPeersFieldsPass() {
        assertThat(LinkFrameCheck.problem(messageWithItemPeer("2001:db8:0:0:0:0:0:0/64", "0123456789abcdef0123456789abcdef")))
                .isNull();
        assertThat(LinkFrameCheck.problem(messageWithItemPeer("loopback", ""))).isNull();
    }

    @Test
    void anEmptyOrOverlongPeerEndsTheLink() {
        String longest = "x".repeat(LinkFrameCheck.MAX_PEER_FIELD);
        assertThat(LinkFrameCheck.problem(messageWithItemPeer(longest, longest))).isNull();
        assertThat(LinkFrameCheck.problem(messageWithItemPeer("", ""))).contains("origin_peer");
        assertThat(LinkFrameCheck.problem(messageWithItemPeer(longest + "x", ""))).contains("origin_peer");
        assertThat(LinkFrameCheck.problem(messageWithItemPeer("h", longest + "x"))).contains("LinkMessage item 0");
    }
}
