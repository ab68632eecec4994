"""What if the model saw N sentences? Train one model on a corpus of your choice (the shipped ones or
your own text file), at a sequence length of your choice, watch the loss fall, then see its
train/test recovery beside the zoo's. The run belongs to the server: it goes on while you look at
other pages (explorer.whatif.jobs)."""
import streamlit as st

from engine.models.train import TrainConfig
from explorer.whatif import runs, form as whatif_form, live as whatif_job, results as whatif_results

st.title("What if...?")
d, layers = runs.MODEL_SIZES[runs.DEFAULT_SIZE][:2]
st.caption(f"Train your own model on the first N sentences of a corpus and see where it lands between "
           f"memorizing and generalizing. Training runs on this server's CPU, one run at a time, measurements included: the default "
           f"run (d = {d}, {layers} layers, {runs.BUDGETS['standard']:,} steps of {TrainConfig().batch_size} "
           "sentences) is the quickest; a larger model (Advanced) learns more per step but each step costs more. "
           "The progress bar says how far a run has got.")
chosen = whatif_form.form()
if chosen is not None and st.button("Train and measure", type="primary", icon=":material/play_arrow:",
                                    key="wi_train"):
    whatif_job.start(*chosen)
whatif_job.panel()
if st.session_state.get("wi_last"):
    whatif_results.show(st.session_state["wi_last"])
whatif_results.listing()
