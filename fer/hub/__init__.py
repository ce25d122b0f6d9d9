"""Published models: a folder laid out as a Hugging Face Hub model repository.

    <folder>/model.safetensors     the checkpoint (fer.models.checkpoint format)
    <folder>/README.md             the model card (Hub YAML front matter + Markdown)
    <folder>/images/*.png          confusion matrices from `fer evaluate`, when given
    <folder>/eval/*.json           those evaluation reports
    <folder>/training_config.yaml  the training run's resolved config, when found beside the checkpoint

`fer.hub.folder.resolve_published` turns such a folder (or a checkpoint file) into the checkpoint
path and the card's summary line; every place that opens a checkpoint calls it, so a published
folder loads wherever a checkpoint does. `fer.hub.publish.publish` writes the folder;
`fer.hub.publish.push` uploads it.
"""
