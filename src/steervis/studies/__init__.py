"""Analyses over run folders and models, by name: ``steervis study NAME``.

A study is a plain function taking keyword options and returning a JSON-able dict, registered here as a
lazy ``"module:attr"`` entry (so ``steervis study --list`` imports none of them). Studies read what the
floors below produce (a finished ``steervis evaluate`` run folder, a trained VLM, a matcher and REACT on it)
and answer a question with intervals; throughput and memory are ``steervis bench``'s.

A new study is one module in this package and one ``STUDIES.register`` line below.

>>> from steervis.studies import STUDIES
>>> "paired" in STUDIES, STUDIES.help("paired").split(":")[0]
(True, 'method a minus method b on the same images of a run')
"""

from steervis.registry import Registry

STUDIES = Registry("study")
STUDIES.register("paired", "steervis.studies.paired:study_paired",
                 help="method a minus method b on the same images of a run: per domain and DG mean, 95 % CI")
STUDIES.register("class-tags", "steervis.studies.classtags:study_class_tags",
                 help="does the decider follow the class tags? first-tag accuracy vs the answers, per domain")
STUDIES.register("text-shift", "steervis.studies.textshift:study_text_shift",
                 help="words of the descriptions per domain: top items, JS divergence to the other domains")
STUDIES.register("react-zeroshot", "steervis.studies.react_zeroshot:react_zeroshot",
                 help="zero-shot accuracy per domain: conse vs react-pool vs react, 95 % intervals")
STUDIES.register("vlm-sweep", "steervis.studies.vlm:vlm_sweep",
                 help="label-space sweep 2-34 classes: vlm-score vs the matcher's zero-shot, same images, "
                 "95 % CI")
STUDIES.register("vlm-probe", "steervis.studies.vlm:vlm_probe",
                 help="DG linear probes: the VLM's last hidden state vs its vision input vs efficientnet "
                 "pooled")
STUDIES.register("vlm-diagnose", "steervis.studies.vlm_diagnose:vlm_diagnose",
                 help="easy-vqa on the validation split: a stage-2 lever, image withheld or swapped, "
                 "overfit, colour probes along the model")
STUDIES.register("vlm-captions", "steervis.studies.vlm_captions:vlm_captions",
                 help="captions of N images per domain (HTML page) and how often they name the class")
STUDIES.register("vlm-chat", "steervis.studies.vlm_chat:vlm_chat",
                 help="three scripted chat turns on N seeded scenes (objects, a colour, what is left of X), "
                 "scored against the scene's truth")
STUDIES.register("scene-probes", "steervis.studies.scene_probes:scene_probes",
                 help="count and colour probes on a VLM's visual tokens of the scenes: the ceiling of its "
                 "answers")
STUDIES.register("anyres-gate", "steervis.studies.anyres_gate:anyres_gate",
                 help="colour and count probes on small scene objects: AnyRes tiles vs one image at 448 px "
                 "vs 224 px, 95 % CI, verdict")
STUDIES.register("summary", "steervis.studies.summary:summary",
                 help="write docs/results/TABLE/summary.json from a run folder or a command's JSON/CSV "
                 "output")
STUDIES.register("results", "steervis.studies.results:results",
                 help="write every table of docs/RESULTS.md from its summary (check=true: fail on a "
                 "difference)")
STUDIES.register("phash-threshold", "steervis.studies.phash_threshold:phash_threshold",
                 help="the pool's near-duplicate rule: copies of evaluation images caught vs pool excluded, "
                 "per threshold")
STUDIES.register("knowledge-gate", "steervis.studies.knowledge_gate:knowledge_gate",
                 help="WordNet questions about each class with the true class told: accuracy per type, "
                 "95 % CI, types kept at >= 80 %")
