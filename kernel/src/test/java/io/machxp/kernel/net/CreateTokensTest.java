package io.machxp.kernel.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.net.CreateTokens.Kind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link CreateTokens}' states: MAKING joins retries, settles them once, and is never dropped by the bound. */
class CreateTokensTest {
    private final CreateTokens tokens = new CreateTokens();
    private final List<String> ran = new ArrayList<>();

    @Test
    void aRetryWhileItsTokenIsMakingJoinsAndRunsOnceItIsMade() {
        tokens.begin("p", Kind.MAPPING, 1, 42, null);
        assertThat(tokens.find("p", Kind.MAPPING, 1, 42)).as("nothing made yet").isNull();
        assertThat(tokens.joined("p", Kind.MAPPING, 1, 42, () -> ran.add("retry"))).isTrue();
        assertThat(tokens.joined("p", Kind.THREAD, 1, 42, () -> ran.add("other kind"))).as("another kind's name space").isFalse();
        assertThat(tokens.made("p", Kind.MAPPING, 1, 42, 0, "m")).isTrue();
        assertThat(ran).containsExactly("retry");
        assertThat(tokens.find("p", Kind.MAPPING, 1, 42).what()).isEqualTo("m");
        assertThat(tokens.joined("p", Kind.MAPPING, 1, 42, () -> ran.add("late"))).as("made: nothing to join").isFalse();
    }

    @Test
    void aFailedCreateForgetsItsTokenAndRunsItsJoinedRetries() {
        tokens.begin("p", Kind.TASK, 0, 7, null);
        tokens.joined("p", Kind.TASK, 0, 7, () -> ran.add("retry"));
        tokens.forget("p", Kind.TASK, 0, 7);
        assertThat(ran).containsExactly("retry");
        assertThat(tokens.find("p", Kind.TASK, 0, 7)).isNull();
        assertThat(tokens.size()).isZero();
    }

    @Test
    void anAbandonWhileMakingStopsItAndItsCreateIsRefusedAsItIsMade() {
        tokens.begin("p", Kind.MAPPING, 1, 9, () -> ran.add("stopped"));
        tokens.joined("p", Kind.MAPPING, 1, 9, () -> ran.add("retry"));
        assertThat(tokens.abandon("p", Kind.MAPPING, 1, 9)).isNull();
        assertThat(ran).containsExactly("stopped");
        assertThat(tokens.made("p", Kind.MAPPING, 1, 9, 0, "m")).as("made after the abandon: undone by the caller").isFalse();
        assertThat(ran).containsExactly("stopped", "retry");
        assertThat(tokens.find("p", Kind.MAPPING, 1, 9).abandoned()).isTrue();
        tokens.forget("p", Kind.MAPPING, 1, 9);
        assertThat(tokens.find("p", Kind.MAPPING, 1, 9).abandoned()).as("an abandon is kept").isTrue();
    }

    @Test
    void theBoundDropsSettledTokensNeverOneStillMaking() {
        tokens.begin("p", Kind.TASK, 0, 1, null);
        for (long t = 2; t <= CreateTokens.PER_PEER + 1; t++) {
            tokens.made("p", Kind.TASK, 0, t, t, null);
        }
        assertThat(tokens.size()).isEqualTo(CreateTokens.PER_PEER);
        assertThat(tokens.joined("p", Kind.TASK, 0, 1, () -> ran.add("retry"))).as("the oldest, but still making").isTrue();
        assertThat(tokens.find("p", Kind.TASK, 0, 2)).as("the oldest settled one went").isNull();
    }

    @Test
    void aFirstCallerGivingUpLateReleasesWhatItMadeUnlessARetryWasAnsweredIt() {
        tokens.begin("p", Kind.TASK, 0, 3, null);
        tokens.made("p", Kind.TASK, 0, 3, 100, null);
        assertThat(tokens.releasedByGivenUp("p", Kind.TASK, 0, 3)).as("nobody else holds it: undone").isTrue();
        assertThat(tokens.find("p", Kind.TASK, 0, 3)).as("a retry makes anew").isNull();

        tokens.begin("p", Kind.TASK, 0, 4, null);
        tokens.made("p", Kind.TASK, 0, 4, 101, null);
        assertThat(tokens.answerRetry("p", Kind.TASK, 0, 4).made()).isEqualTo(101);
        assertThat(tokens.releasedByGivenUp("p", Kind.TASK, 0, 4)).as("the retry's caller holds it").isFalse();
        assertThat(tokens.find("p", Kind.TASK, 0, 4).made()).isEqualTo(101);
    }

    /**
     * Review rv60 LOW-3: 16 peers abandoning 4,096 tokens they never used (it costs them nothing)
     * fill the global bound; the next evicted the least recently active peer's token, here the
     * victim's MADE one, whose late abandon then found nothing and its task stayed.
     */
    @Test
    void abandonsOfUnusedTokensByManyPeersEvictTheirOwnNotAPeerUnderItsFairPart() {
        tokens.begin("victim", Kind.TASK, 0, 42, null);
        tokens.made("victim", Kind.TASK, 0, 42, 1234, null); // its answer lost on the way
        for (int p = 0; p < 16; p++) {
            for (int i = 0; i < CreateTokens.PER_PEER; i++) {
                tokens.abandon("attacker-" + p, Kind.TASK, 0, 1_000_000L * p + i + 1);
            }
        }
        assertThat(tokens.size()).isEqualTo(CreateTokens.ALL_PEERS);
        assertThat(tokens.find("attacker-0", Kind.TASK, 0, 1)).as("the largest peer's oldest went").isNull();
        CreateTokens.Made found = tokens.abandon("victim", Kind.TASK, 0, 42);
        assertThat(found).as("the victim's abandon finds its task to end").isNotNull();
        assertThat(found.made()).isEqualTo(1234);
    }

    @Test
    void theGlobalBoundNeverDropsATokenStillMaking() {
        for (int i = 1; i <= CreateTokens.PER_PEER; i++) {
            tokens.begin("busy", Kind.MAPPING, 1, i, null); // all still under way
        }
        for (int p = 0; p < 15; p++) {
            for (int i = 1; i <= CreateTokens.PER_PEER; i++) {
                tokens.abandon("other-" + p, Kind.TASK, 0, i);
            }
        }
        tokens.abandon("last", Kind.TASK, 0, 1);
        assertThat(tokens.size()).isEqualTo(CreateTokens.ALL_PEERS);
        assertThat(tokens.joined("busy", Kind.MAPPING, 1, 1, () -> ran.add("retry"))).as("still making: kept").isTrue();
        assertThat(tokens.find("other-0", Kind.TASK, 0, 1)).as("a settled one of the next largest went").isNull();
        assertThat(tokens.find("last", Kind.TASK, 0, 1).abandoned()).isTrue();
    }

    /**
     * Review rv60 INFO-2: an abandon after the create was made ends what it made; the first
     * caller's cancel landing afterwards ends nothing more (before, a thread was ended twice) and
     * keeps the token ABANDONED, so a late retry still gets EINTR.
     */
    @Test
    void aGiveUpAfterAnAbandonEndsNothingMoreAndKeepsTheAbandon() {
        tokens.begin("p", Kind.THREAD, 5, 8, null);
        tokens.made("p", Kind.THREAD, 5, 8, 1048577, "thread");
        assertThat(tokens.abandon("p", Kind.THREAD, 5, 8).made()).as("the abandon ends it").isEqualTo(1048577);
        assertThat(tokens.releasedByGivenUp("p", Kind.THREAD, 5, 8)).as("already ended by the abandon").isFalse();
        tokens.forget("p", Kind.THREAD, 5, 8);
        assertThat(tokens.answerRetry("p", Kind.THREAD, 5, 8).abandoned()).as("a late retry: EINTR").isTrue();
    }
}
