import wallaroo


class Decoder:
    def header_length(self):
        return 4

    def payload_length(self, bs):
        return 0

    def decode(self, bs):
        return bs


class Echo:
    def compute(self, data):
        return data


def application_setup(args):
    ab = wallaroo.ApplicationBuilder("sinkless")
    ab.new_pipeline("echo pipeline", wallaroo.TCPSourceConfig("127.0.0.1", 0, Decoder()))
    ab.to(Echo)
    return ab.build()
