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
}
