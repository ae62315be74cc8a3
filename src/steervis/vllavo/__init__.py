"""VLLaVO (Chen et al., 2024): describe images in words, then let a LoRA-finetuned language model decide.

* :mod:`steervis.vllavo.describe`: images → tags, attributes and captions, cached by content;
* :mod:`steervis.vllavo.decide`: the instruction template, the decider and pseudo-label self-training (text
  only: it never reads an image);

Both halves on a folder (``steervis fit`` / ``steervis predict``) are :mod:`steervis.methods.finetune`, on the
evaluation floor, because a folder's task-bound names (REACT for its classes) are resolved there.

The describer reaches other systems' models only by registry name: a REACT matcher (``react-pool``, a
customized folder) through :data:`steervis.matchers.MATCHERS`, steervis' LLaVA through the ``llava``
captioner.
"""
