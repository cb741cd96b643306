package io.machxp.kernel.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.net.CreateTokens.Kind;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import org.junit.jupiter.api.Test;

/**
 * Review rv60 INFO-1: a thread create_token remembered only the TID, so after the thread ended and
 * its TID was given to a later thread of the task (a full cycle of numbers), a retry was answered
 * that thread and a late abandon ended it. The token now names the thread itself.
 */
class CreateTokenThreadIdentityTest {
    @Test
    void aTokenNamesItsOwnThreadNotALaterOneWithItsTid() {
        CreateTokens tokens = new CreateTokens();
        MachTask task = new MachTask(7, "t");
        MachThread first = new MachThread(1048577, task);
        task.addThread(first);
        tokens.begin("p", Kind.THREAD, 5, 42, null);
        tokens.made("p", Kind.THREAD, 5, 42, first.tid, first);
        assertThat(TaskCreates.madeThreadLives(task, tokens.find("p", Kind.THREAD, 5, 42))).as("its own thread").isTrue();

        task.removeThread(first.tid);
        MachThread later = new MachThread(first.tid, task); // the TID given again after a full cycle
        task.addThread(later);
        CreateTokens.Made made = tokens.abandon("p", Kind.THREAD, 5, 42);
        assertThat(TaskCreates.madeThreadLives(task, made)).as("a later thread with the TID is not the token's: left alone").isFalse();
        assertThat(TaskCreates.madeThreadLives(null, made)).as("task ended").isFalse();
    }
}
