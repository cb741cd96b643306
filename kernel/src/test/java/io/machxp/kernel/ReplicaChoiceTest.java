package io.machxp.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A kernel follows a redirect only to an entry of its own --pager list (ratis review, finding 5:
 * it followed any address a replica named, and after a failure there always went back to the
 * first replica).
 */
class ReplicaChoiceTest {
    private static final String LIST = "10.0.0.1:7070+10.0.0.2:7070+10.0.0.3:7070";

    @Test
    void aLeaderAtAnAddressOfTheListIsFollowed() {
        ReplicaChoice c = new ReplicaChoice(LIST);
        assertThat(c.leader("10.0.0.3:7070", "c")).isEqualTo("10.0.0.3:7070");
        assertThat(c.current()).isEqualTo("10.0.0.3:7070");
    }

    /** The replicas' own addresses (--replicas) differ from the kernel's (NAT, DNS names): not followed. */
    @Test
    void aLeaderAtNoEntryOfTheListIsNotFollowed() {
        ReplicaChoice c = new ReplicaChoice(LIST);
        c.next("10.0.0.1:7070");
        assertThat(c.leader("192.168.5.2:7070", "b")).isNull();
        assertThat(c.current()).as("unchanged").isEqualTo("10.0.0.2:7070");
        assertThat(c.next(c.current())).isEqualTo("10.0.0.3:7070");
    }

    /** A replica id seen once at an address of the list maps a later redirect that names it otherwise. */
    @Test
    void aLeaderIdSeenAtAnEntryBeforeMapsToThatEntry() {
        ReplicaChoice c = new ReplicaChoice(LIST);
        c.leader("10.0.0.2:7070", "b");
        c.next("10.0.0.2:7070");
        assertThat(c.leader("b.pager.internal:7070", "b")).isEqualTo("10.0.0.2:7070");
        assertThat(c.current()).isEqualTo("10.0.0.2:7070");
    }

    /** A failed replica that is not in the list: the one after the current one, not the first of the list. */
    @Test
    void theNextAfterAReplicaNotInTheListIsTheOneAfterTheCurrent() {
        ReplicaChoice c = new ReplicaChoice(LIST);
        c.leader("10.0.0.2:7070", "b");
        assertThat(c.next("elsewhere:1")).isEqualTo("10.0.0.3:7070");
        assertThat(c.next("elsewhere:1")).isEqualTo("10.0.0.1:7070");
    }
}
