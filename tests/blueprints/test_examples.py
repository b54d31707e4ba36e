"""The example app's summaries and review notes speak the user's terms."""

from sdk.hints import read_hints

# Words of the systems these blueprints replaced, or of our internals, that a user of the stack cannot act on.
JARGON = ("source task definition", "source system", "stop Lambda", "hand-started instance")


def test_no_summary_or_review_note_of_an_example_speaks_of_the_replaced_system(example_stacks):
    # GIVEN every example stack WHEN its blueprints' summaries and review notes are read
    texts = [
        (stack, line)
        for stack, tf in example_stacks.items()
        for hints in read_hints(tf).values()
        for line in (*hints.summary, *hints.review_notes)
    ]
    # THEN none speaks of the system it replaced
    assert texts and not [(stack, line) for stack, line in texts if any(word in line for word in JARGON)]


def test_the_queue_note_says_what_the_stack_does_when_idle(example_stacks):
    # GIVEN the ComfyUI queue WHEN its note is read THEN it says hosts stop after the idle time, in plain words
    (hints,) = read_hints(example_stacks["comfyui-queue"]).values()
    assert any("No GPU host runs while the queue is empty" in note for note in hints.review_notes)
