package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SimEvents.scheduleLast: the end of an instant comes after every event due then, also those scheduled meanwhile. */
class SimEventsEndOfInstantTest {
    @Test
    void anEventForTheEndOfTheInstantRunsAfterEventsScheduledForNowMeanwhile() {
        SimEvents events = new SimEvents();
        List<String> ran = new ArrayList<>();
        events.schedule(10, () -> {
            ran.add("first");
            events.scheduleLast(() -> ran.add("end of instant"));
            // a chain of events at the same time, as a call's answer and the caller's next call
            events.schedule(10, () -> {
                ran.add("answer");
                events.schedule(10, () -> ran.add("next call"));
            });
        });
        events.schedule(11, () -> ran.add("later"));
        events.runUntil(100);
        assertThat(ran).containsExactly("first", "answer", "next call", "end of instant", "later");
        assertThat(events.now()).isEqualTo(11);
    }

    @Test
    void theEndOfTheInstantIsTheNextEventWhenNothingElseIsDueNow() {
        SimEvents events = new SimEvents();
        List<String> ran = new ArrayList<>();
        events.schedule(5, () -> events.scheduleLast(() -> ran.add("end")));
        assertThat(events.step()).isTrue();
        assertThat(events.nextEventTime()).isEqualTo(5);
        assertThat(events.step()).isTrue();
        assertThat(ran).containsExactly("end");
        assertThat(events.nextEventTime()).isEqualTo(-1);
    }
}
