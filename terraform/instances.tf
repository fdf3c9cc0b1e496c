# One K3s server and N agents. K3s itself is installed over SSH by `make bootstrap-k3s` and
# `make join-workers`, so that the same steps work on any reachable Linux host.

# The newest Ubuntu 24.04 image of the chosen architecture, read at the first apply. Instances
# ignore later AMI changes (lifecycle below): a new Ubuntu release never replaces a node and its
# local volumes. Move a node to a new image on purpose: terraform apply -replace='aws_instance.agent[0]'.
data "aws_ami" "ubuntu" {
  count = var.ami_id == "" ? 1 : 0

  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${local.ubuntu_arch}-server-*"]
  }

  filter {
    name   = "architecture"
    values = [var.architecture]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

# The image actually used (given or looked up): its architecture is checked against each instance type.
data "aws_ami" "selected" {
  filter {
    name   = "image-id"
    values = [local.ami_id]
  }
}

data "aws_ec2_instance_type" "server" {
  instance_type = var.server_instance_type
}

data "aws_ec2_instance_type" "agent" {
  instance_type = var.agent_instance_type
}

locals {
  ubuntu_arch = var.architecture == "arm64" ? "arm64" : "amd64"
  ami_id      = var.ami_id != "" ? var.ami_id : data.aws_ami.ubuntu[0].id
}

resource "aws_key_pair" "admin" {
  key_name   = "${var.name_prefix}-admin"
  public_key = var.ssh_public_key
}

resource "aws_instance" "server" {
  ami                    = local.ami_id
  instance_type          = var.server_instance_type
  subnet_id              = local.subnet_ids[0]
  vpc_security_group_ids = [aws_security_group.cluster.id]
  key_name               = aws_key_pair.admin.key_name

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    delete_on_termination = true
  }

  metadata_options {
    http_tokens   = "required"
    http_endpoint = "enabled"
  }

  tags = {
    Name = "${var.name_prefix}-server"
    Role = "k3s-server"
  }

  lifecycle {
    # A newer AMI (most_recent) must never plan a replacement of the server.
    ignore_changes = [ami]

    precondition {
      condition     = length(local.subnet_ids) > 0
      error_message = "No subnet: set existing_subnet_ids when vpc_id is given."
    }
    precondition {
      condition     = contains(data.aws_ec2_instance_type.server.supported_architectures, data.aws_ami.selected.architecture)
      error_message = "server_instance_type does not run the AMI's architecture: set architecture (x86_64 or arm64) to match the instance family (Graviton types such as t4g, m7g are arm64)."
    }
  }
}

# A stable public address for the API server certificate and the kubeconfig.
resource "aws_eip" "server" {
  domain   = "vpc"
  instance = aws_instance.server.id

  tags = {
    Name = "${var.name_prefix}-server"
  }
}

resource "aws_instance" "agent" {
  count = var.agent_count

  ami                    = local.ami_id
  instance_type          = var.agent_instance_type
  subnet_id              = local.subnet_ids[count.index % length(local.subnet_ids)]
  vpc_security_group_ids = [aws_security_group.cluster.id]
  key_name               = aws_key_pair.admin.key_name

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    delete_on_termination = true
  }

  metadata_options {
    http_tokens   = "required"
    http_endpoint = "enabled"
  }

  tags = {
    Name = "${var.name_prefix}-agent-${count.index + 1}"
    Role = "k3s-agent"
  }

  lifecycle {
    # A newer AMI (most_recent) must never plan a replacement of the agents when agent_count changes.
    ignore_changes = [ami]

    precondition {
      condition     = contains(data.aws_ec2_instance_type.agent.supported_architectures, data.aws_ami.selected.architecture)
      error_message = "agent_instance_type does not run the AMI's architecture: set architecture (x86_64 or arm64) to match the instance family (Graviton types such as t4g, m7g are arm64)."
    }
  }
}
