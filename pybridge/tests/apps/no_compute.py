import wallaroo


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return 0

    def decode(self, bs):
        return bs


class Lazy:
    def name(self):
        return "lazy step"


def application_setup(args):
    ab = wallaroo.ApplicationBuilder("broken")
    ab.new_pipeline("p", wallaroo.TCPSourceConfig("127.0.0.1", 0, Decoder()))
    ab.to(Lazy)
    return ab.build()
