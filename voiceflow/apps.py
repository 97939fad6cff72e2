from django.apps import AppConfig


class VoiceflowConfig(AppConfig):
    name = "voiceflow"
    verbose_name = "Voice flow"
